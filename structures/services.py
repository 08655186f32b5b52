"""Writes on caisses, structures, conventions and accounts. One transaction per user action."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from extranet.accounts import second_factor
from extranet.accounts.services import end_sessions, revoke_api_tokens, send_activation_link
from extranet.audit.models import AccessLog, record_access
from extranet.core.plurals import quantity
from extranet.notifications.emails import absolute_url, send_templated_email
from structures import conventions, policy
from structures.models import (
    CONVENTION_CONSEQUENCES,
    Caisse,
    CaisseMembership,
    Convention,
    ConventionChange,
    Membership,
    Structure,
)

logger = logging.getLogger(__name__)


class SeatLimitReached(Exception):
    def __init__(self, structure, active_count):
        self.cap = structure.gestionnaire_seat_cap
        self.active_count = active_count
        super().__init__(
            f"Plafond atteint : {structure.name} compte "
            f"{quantity(active_count, 'gestionnaire actif', 'gestionnaires actifs')} pour "
            f"{quantity(self.cap, 'place autorisée', 'places autorisées')} avec un effectif de "
            f"{quantity(structure.headcount, 'personne')}. "
            "Désactivez un gestionnaire ou mettez à jour l'effectif pour libérer une place."
        )


class EmailAlreadyUsed(Exception):
    message = "Cette adresse électronique est déjà associée à un compte."


class NotAllowed(Exception):
    """The policy refuses this action to this user (the pages reach the services only for what they may do: this is
    the services' own check, for any other caller)."""


class LastAdministrator(Exception):
    def __init__(self, caisse):
        super().__init__(
            f"La {caisse.name} doit garder au moins un administrateur actif : créez ou réactivez d'abord un autre "
            "administrateur, et attendez qu'il ait activé son compte, avant de désactiver celui-ci."
        )


def _create_invited_user(*, email, civility, last_name, first_name, phone):
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email.strip())
    if user_model.objects.filter(email__iexact=email).exists():
        raise EmailAlreadyUsed
    return user_model.objects.create_user(
        email, None, civility=civility, last_name=last_name, first_name=first_name, phone=phone
    )


def _lock_structure(structure):
    """Concurrent gestionnaire creations on one structure wait for each other here, then count."""
    return Structure.objects.select_for_update().get(pk=structure.pk)


def _check_free_seat(structure):
    active_count = structure.active_gestionnaires().count()
    if active_count >= structure.gestionnaire_seat_cap:
        raise SeatLimitReached(structure, active_count)


def seat_situation(structure):
    """What the seat cap means for this structure now: free seats, or what stands in the way of one more."""
    return seats_from_count(structure, structure.active_gestionnaires().count())


def seats_from_count(structure, active_count):
    """`seat_situation` for a page that has already read the active gestionnaires. `to_free`: the seats to free
    before one more gestionnaire can be created (more than one when the headcount was lowered below the seats)."""
    cap = structure.gestionnaire_seat_cap
    return {
        "cap": cap,
        "active_count": active_count,
        "free": max(cap - active_count, 0),
        "over": active_count > cap,
        "to_free": max(active_count - cap + 1, 0),
    }


@transaction.atomic
def create_structure(*, caisse, signed_on, convention_status, **fields):
    structure = Structure.objects.create(**fields)
    Convention.objects.create(structure=structure, caisse=caisse, signed_on=signed_on, status=convention_status)
    conventions.forget(structure.pk)
    return structure


@transaction.atomic
def update_structure(structure, **fields):
    for name, value in fields.items():
        setattr(structure, name, value)
    structure.save()
    conventions.forget(structure.pk)
    return seat_situation(structure)


@transaction.atomic
def set_caisse_calendar(caisse, *, calendar, by):
    """The administrateur's choice of the caisse's public holidays: from now on, every age, deadline and reminder
    of its requests counts its working days (the ages are computed when read, so the past ones follow too)."""
    caisse = Caisse.objects.select_for_update().get(pk=caisse.pk)
    previous = caisse.calendar
    caisse.calendar = calendar
    caisse.save(update_fields=["calendar"])
    # The partners' headers remember their caisses, calendar included, in each process.
    conventions.forget()
    logger.info("caisse %s: calendar %s -> %s by user %s", caisse.code, previous, calendar, by.pk)
    return caisse


@transaction.atomic
def add_convention(structure, *, caisse, signed_on, status):
    convention = Convention.objects.create(structure=structure, caisse=caisse, signed_on=signed_on, status=status)
    conventions.forget(structure.pk)
    return convention


@transaction.atomic
def update_convention(convention, *, signed_on, status, by, reason=""):
    """Change a convention's signature date or status. A change of status is logged (who, when, from, to, why) and
    the structure's active gestionnaires are told by email. Returns the change logged, or None (date only)."""
    if not policy.can_change_convention(by, convention):
        raise NotAllowed("Seuls les administrateurs de la caisse modifient ses conventions.")
    # Fresh and locked: the status it changes from is the one in the database (a bound ModelForm has already copied
    # the submitted values onto its instance), and two administrateurs changing it at once log one change each.
    convention = Convention.objects.select_for_update().select_related("structure", "caisse").get(pk=convention.pk)
    previous = convention.status
    convention.signed_on = signed_on
    convention.status = status
    convention.save(update_fields=["signed_on", "status"])
    conventions.forget(convention.structure_id)
    if previous == status:
        return None
    change = ConventionChange.objects.create(
        convention=convention, by=by, from_status=previous, to_status=status, reason=reason.strip()
    )
    _tell_gestionnaires_of_convention_change(change)
    return change


def _tell_gestionnaires_of_convention_change(change):
    convention = change.convention
    context = {
        "convention": convention,
        "structure": convention.structure,
        "caisse": convention.caisse,
        "change": change,
        "from_label": Convention.Status(change.from_status).label,
        "to_label": Convention.Status(change.to_status).label,
        "consequence": CONVENTION_CONSEQUENCES[change.to_status],
        "link": absolute_url("home"),
    }
    gestionnaires = convention.structure.active_gestionnaires().filter(user__is_active=True).select_related("user")
    for membership in gestionnaires.order_by("pk"):
        send_templated_email(membership.user.email, "convention_changed", context | {"user": membership.user})


IDENTITY_LABELS = {"first_name": "prénom", "last_name": "nom", "phone": "téléphone"}


@transaction.atomic
def correct_identity(membership, *, by, first_name, last_name, phone):
    """An administrateur corrects the name or phone of an account (an agent's, an administrateur's, a gestionnaire's
    of one of the caisse's structures). Logged in the caisse's journal: whose account, which fields, the name before
    and after (a phone number is not copied there). Returns the fields changed."""
    staff = policy.caisse_membership(by)
    # A gestionnaire may edit their techniciens (technicien_edit, with the email): not here, where the change is
    # logged in a caisse's journal.
    if staff is None or not policy.can_edit_account(by, membership):
        raise NotAllowed("Seuls les administrateurs de la caisse modifient ce compte.")
    user = get_user_model().objects.select_for_update().get(pk=membership.user_id)
    before = user.get_full_name()
    new = {"first_name": first_name, "last_name": last_name, "phone": phone}
    changed = [name for name, value in new.items() if getattr(user, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(user, name, new[name])
    user.save(update_fields=changed)
    where = membership.structure.name if isinstance(membership, Membership) else membership.caisse.name
    renamed = f" ({before} → {user.get_full_name()})" if user.get_full_name() != before else ""
    record_access(
        by,
        AccessLog.Action.ACCOUNT_EDIT,
        caisse=staff.caisse,
        target=f"{membership.get_role_display()} {user.email}, {where} : "
        f"{', '.join(IDENTITY_LABELS[name] for name in changed)}{renamed}",
    )
    return changed


@transaction.atomic
def create_partner_account(structure, *, role, by, **identity):
    """Create a technicien or gestionnaire; gestionnaires only within the seat cap. Sends the activation link."""
    if role == Membership.Role.GESTIONNAIRE:
        structure = _lock_structure(structure)
        _check_free_seat(structure)
    user = _create_invited_user(**identity)
    membership = Membership.objects.create(user=user, structure=structure, role=role, created_by=by)
    send_activation_link(user, invited_by=by)
    return membership


@transaction.atomic
def update_account_identity(user, *, civility, last_name, first_name, phone, email=None):
    """Edit a person's details. The email of an account can only change while it is still invited."""
    # Fresh from the database: a bound ModelForm has already copied the submitted values onto its instance.
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    user.civility, user.last_name, user.first_name, user.phone = civility, last_name, first_name, phone
    resend = False
    if email is not None and user.is_invited and email.strip().lower() != user.email.lower():
        if get_user_model().objects.filter(email__iexact=email.strip()).exclude(pk=user.pk).exists():
            raise EmailAlreadyUsed
        user.email = get_user_model().objects.normalize_email(email.strip())
        resend = True
    user.save()
    if resend:
        send_activation_link(user)
    return user


def _lock_membership(membership):
    return type(membership).objects.select_for_update().select_related("user").get(pk=membership.pk)


def _set_membership_active(membership, active, *, by):
    """The membership is the role and the right (structures/policy.py): deactivating it is all it takes to
    withdraw them; the account's sessions end with it and its API tokens are revoked for good."""
    if membership.is_active == active:
        return
    membership.is_active = active
    membership.deactivated_at = None if active else timezone.now()
    membership.deactivated_by = None if active else by
    membership.save(update_fields=["is_active", "deactivated_at", "deactivated_by"])
    membership.user.is_active = active
    membership.user.save(update_fields=["is_active"])
    if not active:
        end_sessions(membership.user)
        revoke_api_tokens(membership.user)


@transaction.atomic
def deactivate_partner_account(membership, *, by):
    membership = _lock_membership(membership)
    _set_membership_active(membership, False, by=by)
    return membership


@transaction.atomic
def reactivate_partner_account(membership, *, by):
    structure = _lock_structure(membership.structure)
    membership = _lock_membership(membership)
    if membership.is_active:
        return membership
    if membership.is_gestionnaire:
        _check_free_seat(structure)
    _set_membership_active(membership, True, by=by)
    return membership


@transaction.atomic
def create_caisse_account(caisse, *, role, by, **identity):
    user = _create_invited_user(**identity)
    membership = CaisseMembership.objects.create(user=user, caisse=caisse, role=role, created_by=by)
    send_activation_link(user, invited_by=by)
    return membership


@transaction.atomic
def set_caisse_account_active(membership, active, *, by):
    """Deactivating an administrateur never leaves the caisse without one who can sign in: another active
    administrateur must have activated their account. Deactivations in one caisse wait for each other (the caisse's
    row is locked), so two administrateurs deactivating each other at once cannot both succeed."""
    if not active and membership.is_admin:
        caisse = Caisse.objects.select_for_update().get(pk=membership.caisse_id)
        others = (
            CaisseMembership.objects.filter(caisse=caisse, role=CaisseMembership.Role.ADMIN, is_active=True)
            .exclude(pk=membership.pk)
            .select_related("user")
        )
        if not any(other.user.is_active and not other.user.is_invited for other in others):
            raise LastAdministrator(caisse)
    membership = _lock_membership(membership)
    _set_membership_active(membership, active, by=by)
    return membership


@transaction.atomic
def reset_second_factor(membership, *, by):
    """The person lost their phone or their backup codes: their devices go, their sessions end, and they set up
    a second factor again at their next sign-in (after the password). They are told by email."""
    user = membership.user
    second_factor.reset(user)
    end_sessions(user)
    send_templated_email(user.email, "second_factor_reset", {"user": user, "by": by})


@transaction.atomic
def resend_activation(user, *, by):
    if user.is_active and user.is_invited:
        send_activation_link(user, invited_by=by)
        return True
    return False
