"""The pages' guards: who the logged-in person is for this service, refused with a 403 when the page is not for
their role. The rules themselves are the policy's (structures/policy.py); these only turn a refusal into an
answer and return the membership the page works with."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from structures import conventions
from structures.policy import (
    caisse_membership,
    can_administer_caisse,
    can_handle_requests,
    can_manage_technicians,
    partner_membership,
    works_for,
)


def require_partner(user):
    membership = partner_membership(user)
    if membership is None or not works_for(user, membership.structure):
        raise PermissionDenied
    return membership


def require_gestionnaire(user):
    membership = partner_membership(user)
    if membership is None or not can_manage_technicians(user, membership.structure):
        raise PermissionDenied
    return membership


def require_caisse_admin(user):
    membership = caisse_membership(user)
    if membership is None or not can_administer_caisse(user, membership.caisse):
        raise PermissionDenied
    return membership


def require_caisse_staff(user):
    """Agents and administrateurs of a caisse; anyone else (partners included) is refused."""
    membership = caisse_membership(user)
    if membership is None or not can_handle_requests(user, membership.caisse):
        raise PermissionDenied
    return membership


def no_convention(request, structure):
    """A partner's page when the structure has no active convention: nothing can be deposited, the page says why
    (each suspended or ended convention's state) and leads to the history, whose requests stay readable."""
    return render(
        request,
        "home/no_convention.html",
        {"structure": structure, "inactive_conventions": conventions.inactive(structure.pk)},
    )
