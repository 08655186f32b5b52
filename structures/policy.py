"""Who may do what with a structure or a caisse: pure predicates derived from memberships.

A membership is both the role and the right: nothing else is stored for what it says. The user's memberships are
read with the user (extranet/accounts/backends.py, extranet/api/authentication.py), so these predicates ask the
database nothing, except `can_deposit`, which reads the convention afresh, and `can_administer_structure`, which
reads the caisse's structures once per process and version of the conventions (structures/conventions.py). Pages
(structures/guards.py), the API, the services, the templates and the workflow (requests/policy.py) all ask here; no
other place restates a rule.
"""

from structures import conventions
from structures.models import CaisseMembership


def partner_membership(user):
    """The user's active place in a partner structure, or None (an inactive account has none, whatever its
    membership says: Django's admin can switch an account off without touching it)."""
    membership = user.structure_membership if user.is_authenticated and user.is_active else None
    return membership if membership and membership.is_active else None


def caisse_membership(user):
    """The user's active place in a caisse (agent or administrateur), or None (as above for an inactive account)."""
    membership = user.caisse_membership if user.is_authenticated and user.is_active else None
    return membership if membership and membership.is_active else None


def member_of_structure(user, structure_id):
    """The user's active membership of this structure (technicien or gestionnaire), or None."""
    membership = partner_membership(user)
    return membership if membership and membership.structure_id == structure_id else None


def staff_of_caisse(user, caisse_id):
    """The user's active membership of this caisse (agent or administrateur), or None."""
    staff = caisse_membership(user)
    return staff if staff and staff.caisse_id == caisse_id else None


def works_for(user, structure):
    """Techniciens and gestionnaires of the structure: they deposit and follow its requests."""
    return member_of_structure(user, structure.pk) is not None


def can_deposit(user, structure, caisse):
    """A member of the structure, to a caisse it has an active convention with (read now, not remembered)."""
    return works_for(user, structure) and conventions.is_active(structure, caisse)


def can_manage_technicians(user, structure):
    """The structure's gestionnaires (its gestionnaires are the caisse's to manage)."""
    membership = member_of_structure(user, structure.pk)
    return membership is not None and membership.is_gestionnaire


def can_handle_requests(user, caisse):
    """Agents and administrateurs of the caisse: its queue, its dashboard, taking its requests in charge."""
    return staff_of_caisse(user, caisse.pk) is not None


def can_administer_caisse(user, caisse):
    """Administrateurs of the caisse: structures, conventions, gestionnaires, agents, the access journal, the
    export with personal data, reassignments and resolving any request of the caisse."""
    staff = staff_of_caisse(user, caisse.pk)
    return staff is not None and staff.is_admin


def can_administer_structure(user, structure):
    """Administrateurs of a caisse the structure has a convention with, whatever its status: its gestionnaires'
    accounts and its convention with that caisse (the caisse's structures as remembered, structures/conventions.py)."""
    staff = caisse_membership(user)
    return (
        staff is not None
        and staff.is_admin
        and any(pk == structure.pk for pk, _name in conventions.caisse_structures(staff.caisse_id))
    )


def can_change_convention(user, convention):
    """Administrateurs of the convention's caisse: its status (activate, suspend, end) and its signature date."""
    staff = staff_of_caisse(user, convention.caisse_id)
    return staff is not None and staff.is_admin


def can_edit_account(user, membership):
    """Who corrects an account's name and phone: for a caisse's agents and administrateurs, its administrateurs; for
    a structure's gestionnaires, the administrateurs of its caisses; for its techniciens, its gestionnaires."""
    if isinstance(membership, CaisseMembership):
        staff = staff_of_caisse(user, membership.caisse_id)
        return staff is not None and staff.is_admin
    if membership.is_gestionnaire:
        return can_administer_structure(user, membership.structure)
    return can_manage_technicians(user, membership.structure)


def can_manage_webhooks(user, *, structure=None, caisse=None):
    """Who registers the endpoints where software is told of requests' events: a structure's gestionnaires for its
    own, a caisse's administrateurs for the caisse's (those who manage the accounts the software acts for)."""
    if structure is not None:
        return can_manage_technicians(user, structure)
    return caisse is not None and can_administer_caisse(user, caisse)


def may_create_api_tokens(user):
    """Personal API keys are for connecting software: a structure's gestionnaires and a caisse's staff. A
    technicien works in the pages, where the keys would only be jargon; no per-account setting lets a gestionnaire
    grant them one. A technicien's existing keys (made as a gestionnaire, or before this rule) stay listed on « Mon
    compte » so that they can be revoked."""
    partner = partner_membership(user)
    return caisse_membership(user) is not None or (partner is not None and partner.is_gestionnaire)


def may_receive_codes_by_email(user):
    """The second factor: caisse staff handle every structure's requests, and Django's staff the whole service, so
    they use an authenticator application only; partners may also receive their codes by email."""
    return caisse_membership(user) is None and not user.is_staff
