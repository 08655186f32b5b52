"""Who may do what with one request: pure predicates on the user's membership and the request's assignment.

The structure- and caisse-level rules are in structures/policy.py. The only right stored per object is the one a
membership cannot say: the agent in charge's right to resolve (django-guardian `resolve_request`, granted and
moved by the workflow, requests/workflow.py). Whether the request is where a move starts is the workflow's
question, not the policy's: these predicates are the transitions' `permission` (requests/models.py).
"""

from guardian.shortcuts import get_user_perms

from structures.policy import caisse_membership, can_deposit, partner_membership, staff_of_caisse

RESOLVE_REQUEST = "requests.resolve_request"


def request_scope(user):
    """The requests the user may see, as filter arguments: a partner's structure, a caisse's staff their caisse.
    None: no request at all. The scoped querysets (`visible_to`) and `can_see` both read it."""
    partner = partner_membership(user)
    if partner:
        return {"structure_id": partner.structure_id}
    staff = caisse_membership(user)
    if staff:
        return {"caisse_id": staff.caisse_id}
    return None


def draft_scope(user):
    """The drafts the user may see, as filter arguments: their own, in the structure they work for now. None: no
    draft at all (caisse staff, an account that left its structure).

    Only the author's, not the structure's: a draft is unsent work, often half-typed, holding a person's data the
    person agreed to share with the caisse, not with every colleague; it is no request of the structure yet (DESIGN
    §7 gives the structure its requests). Once deposited, the request is the whole structure's."""
    partner = partner_membership(user)
    return {"author_id": user.pk, "structure_id": partner.structure_id} if partner else None


def can_see(user, demande):
    scope = request_scope(user)
    return scope is not None and all(getattr(demande, name) == value for name, value in scope.items())


def can_write(user, demande):
    """Messages and files on the request (while it is open, which the service checks): whoever sees it."""
    return can_see(user, demande)


def is_caisse_side(user, demande):
    """Agents and administrateurs of the request's caisse: they see its internal notes and act on it."""
    return staff_of_caisse(user, demande.caisse_id) is not None


def can_post_internal_note(user, demande):
    return is_caisse_side(user, demande)


def can_await_partner(user, demande):
    """Ask the structure for an answer (the request then waits for it): the caisse's staff, on their messages to the
    structure. Whether the request is in progress is the service's question."""
    return is_caisse_side(user, demande)


def reads_internal_notes(user):
    """Internal notes and their files, on the requests the user sees: the caisse's staff (who see only their
    caisse's requests), never partners. For the scoped querysets of messages and attachments."""
    return caisse_membership(user) is not None


def can_deposit_linked(user, demande):
    """« Nouvelle demande liée »: once a request is resolved, its structure's members who may deposit to its caisse
    start the next one from it (the same person, kind and reference)."""
    return not demande.is_open and can_deposit(user, demande.structure, demande.caisse)


def can_use_answer_templates(user, demande):
    """The caisse's canned messages and answers, offered to whoever writes for the caisse on its requests."""
    return is_caisse_side(user, demande)


def can_mark_letter_sent(user, demande):
    """The MAS referral's confirmation letter is the caisse's to send."""
    return is_caisse_side(user, demande)


def can_take_charge(user, demande):
    """Any agent or administrateur of the request's caisse; also who may be given it by a reassignment."""
    return is_caisse_side(user, demande)


def can_resolve(user, demande):
    """An administrateur of the caisse, or the agent in charge while they hold the right granted at take-charge."""
    staff = staff_of_caisse(user, demande.caisse_id)
    if staff is None:
        return False
    if staff.is_admin:
        return True
    return demande.assigned_to_id == user.pk and holds_resolve_right(user, demande)


def can_reassign(user, demande):
    staff = staff_of_caisse(user, demande.caisse_id)
    return staff is not None and staff.is_admin


def can_dispatch(user, demande):
    """Giving a new request directly to an agent: the caisse's administrateurs, as a reassignment."""
    return can_reassign(user, demande)


def can_hand_back(user, demande):
    """« Remettre dans la file »: the agent in charge, or an administrateur of the caisse."""
    staff = staff_of_caisse(user, demande.caisse_id)
    if staff is None:
        return False
    return staff.is_admin or demande.assigned_to_id == user.pk


def holds_resolve_right(user, demande):
    """Whether the user holds `resolve_request` on this request, in one query: guardian's `has_perm` would ask
    for the user's groups' permissions too, and the workflow grants this right to users only."""
    if not user.is_active:
        return False
    return get_user_perms(user, demande).filter(codename=RESOLVE_REQUEST.split(".", 1)[1]).exists()
