"""Who the logged-in person is for this service: partner (technicien, gestionnaire) or caisse staff."""

from django.core.exceptions import PermissionDenied


def partner_membership(user):
    membership = user.structure_membership if user.is_authenticated else None
    return membership if membership and membership.is_active else None


def caisse_membership(user):
    membership = user.caisse_membership if user.is_authenticated else None
    return membership if membership and membership.is_active else None


def require_partner(user):
    membership = partner_membership(user)
    if membership is None:
        raise PermissionDenied
    return membership


def require_gestionnaire(user):
    membership = require_partner(user)
    if not membership.is_gestionnaire:
        raise PermissionDenied
    return membership


def require_caisse_admin(user):
    membership = caisse_membership(user)
    if membership is None or not membership.is_admin:
        raise PermissionDenied
    return membership


def require_caisse_staff(user):
    """Agents and administrateurs of a caisse; anyone else (partners included) is refused."""
    membership = caisse_membership(user)
    if membership is None:
        raise PermissionDenied
    return membership
