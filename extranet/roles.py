"""Who the logged-in person is for this service: partner (technicien, gestionnaire) or caisse staff.

A membership is the role; the object permissions its services grant (django-guardian) are the rights. Pages ask
for both: an active membership, and the permission on its structure or caisse.
"""

from django.core.exceptions import PermissionDenied
from guardian.shortcuts import get_user_perms

DEPOSIT_REQUESTS = "structures.deposit_requests"
MANAGE_TECHNICIANS = "structures.manage_technicians"
HANDLE_REQUESTS = "structures.handle_requests"
ADMINISTER_CAISSE = "structures.administer_caisse"


def holds(user, perm, obj):
    """Whether `user` holds the object permission `perm` ("app_label.codename") on `obj`, as guardian's `has_perm`
    says, in one query instead of two: our services grant object permissions to users, never to groups, so
    guardian's second query (the user's groups' permissions) could only ever answer nothing."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return get_user_perms(user, obj).filter(codename=perm.split(".", 1)[1]).exists()


def partner_membership(user):
    membership = user.structure_membership if user.is_authenticated else None
    return membership if membership and membership.is_active else None


def caisse_membership(user):
    membership = user.caisse_membership if user.is_authenticated else None
    return membership if membership and membership.is_active else None


def require_partner(user):
    membership = partner_membership(user)
    if membership is None or not holds(user, DEPOSIT_REQUESTS, membership.structure):
        raise PermissionDenied
    return membership


def require_gestionnaire(user):
    membership = partner_membership(user)
    if (
        membership is None
        or not membership.is_gestionnaire
        or not holds(user, MANAGE_TECHNICIANS, membership.structure)
    ):
        raise PermissionDenied
    return membership


def require_caisse_admin(user):
    membership = caisse_membership(user)
    if membership is None or not membership.is_admin or not holds(user, ADMINISTER_CAISSE, membership.caisse):
        raise PermissionDenied
    return membership


def require_caisse_staff(user):
    """Agents and administrateurs of a caisse; anyone else (partners included) is refused."""
    membership = caisse_membership(user)
    if membership is None or not holds(user, HANDLE_REQUESTS, membership.caisse):
        raise PermissionDenied
    return membership
