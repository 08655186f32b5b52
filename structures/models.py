from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from extranet.core.workdays import Calendar, calendar_for_code
from structures.validators import validate_siret


def gestionnaire_seat_cap(headcount):
    """Seats for gestionnaires by headcount (employees plus volunteers)."""
    if headcount <= 10:
        return 2
    if headcount <= 25:
        return 3
    return 5


class Caisse(models.Model):
    code = models.CharField(
        "code",
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^\d{3}$", "Le code caisse comporte 3 chiffres.")],
    )
    name = models.CharField("nom", max_length=120)
    # The public holidays its working days skip (extranet/core/workdays.py): the queue's ages, the deadlines, the
    # reminders. Set from the code when the caisse is created; the administrateur may change it.
    calendar = models.CharField(
        "calendrier des jours fériés",
        max_length=20,
        choices=Calendar.choices,
        help_text=(
            "Les jours fériés que la caisse ne travaille pas : âge des demandes, délais et relances en jours ouvrés."
        ),
    )
    # The sender's address on the PDFs of the caisse's requests (templates/requests/pdf/), as on its letters: one line
    # per line of the address, the last with the postal code and the city.
    postal_address = models.TextField(
        "adresse postale",
        blank=True,
        default="",
        db_default="",  # for the code deployed before it, which inserts caisses without it
        help_text="Une ligne par ligne d'adresse ; la dernière : code postal et ville.",
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(calendar__in=Calendar.values), name="caisse_calendar_known"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.calendar:
            self.calendar = calendar_for_code(self.code)
        super().save(*args, **kwargs)

    @property
    def address_lines(self):
        return [line.strip() for line in self.postal_address.splitlines() if line.strip()]


class StructureQuerySet(models.QuerySet):
    def for_caisse(self, caisse):
        """Structures bound to this caisse by a convention, whatever its status."""
        return self.filter(conventions__caisse=caisse).distinct()

    def with_active_gestionnaire_count(self):
        return self.annotate(
            active_gestionnaire_count=models.Count(
                "memberships",
                filter=Q(memberships__role=Membership.Role.GESTIONNAIRE, memberships__is_active=True),
            )
        )


class Structure(models.Model):
    class Kind(models.TextChoices):
        CCAS = "ccas", "CCAS / CIAS"
        ASSOCIATION = "association", "Association"
        GUARDIANSHIP = "guardianship", "Mandataire judiciaire (tutelle, curatelle)"
        ASE = "ase", "Aide sociale à l'enfance (ASE)"
        HEALTH_FACILITY = "health_facility", "Établissement de santé"
        FRANCE_SERVICES = "france_services", "France Services"
        OTHER = "other", "Autre"

    name = models.CharField("nom", max_length=200)
    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    kind = models.CharField("type de structure", max_length=20, choices=Kind.choices)
    headcount = models.PositiveIntegerField(
        "effectif",
        validators=[MinValueValidator(1, "L'effectif compte au moins une personne.")],
        help_text="Salariés et bénévoles. Il fixe le nombre de gestionnaires : 2 jusqu'à 10 personnes, "
        "3 de 11 à 25, 5 au-delà.",
    )
    insured_documents_habilitation = models.BooleanField(
        "habilitée aux documents concernant un assuré",
        default=False,
        help_text="Tutelles, curatelles habilitées, ASE : peuvent demander attestation de droits, CEAM, "
        "attestation d'indemnités journalières pour la personne accompagnée.",
    )
    created_at = models.DateTimeField("créée le", default=timezone.now)

    objects = StructureQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(headcount__gte=1), name="structure_headcount_positive")]

    def __str__(self):
        return self.name

    @property
    def gestionnaire_seat_cap(self):
        return gestionnaire_seat_cap(self.headcount)

    def active_gestionnaires(self):
        return self.memberships.filter(role=Membership.Role.GESTIONNAIRE, is_active=True)


class Convention(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspendue"
        ENDED = "ended", "Terminée"

    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="conventions")
    caisse = models.ForeignKey(Caisse, on_delete=models.PROTECT, related_name="conventions")
    signed_on = models.DateField("date de signature")
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["caisse__code"]
        constraints = [models.UniqueConstraint(fields=["structure", "caisse"], name="one_convention_per_caisse")]

    def __str__(self):
        return f"Convention {self.structure} – {self.caisse}"


# What a convention's new status means for the structure: said on the confirmation page before the change and in
# the email that tells the structure's gestionnaires after it.
CONVENTION_CONSEQUENCES = {
    Convention.Status.ACTIVE: "Les techniciens et les gestionnaires de la structure peuvent déposer des demandes "
    "à la caisse.",
    Convention.Status.SUSPENDED: "Les techniciens et les gestionnaires de la structure ne pourront plus déposer de "
    "demande à la caisse tant que la convention est suspendue. Les demandes déjà déposées restent consultables.",
    Convention.Status.ENDED: "Les techniciens et les gestionnaires de la structure ne pourront plus déposer de "
    "demande à la caisse. Les demandes déjà déposées restent consultables.",
}


class ConventionChange(models.Model):
    """A change of a convention's status: who, when, from, to, and why if said. Written by the service that makes
    the change (structures/services.py update_convention), in its transaction; never edited."""

    convention = models.ForeignKey(Convention, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField("date", default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="par")
    from_status = models.CharField("ancien statut", max_length=10, choices=Convention.Status.choices)
    to_status = models.CharField("nouveau statut", max_length=10, choices=Convention.Status.choices)
    reason = models.CharField("motif", max_length=500, blank=True)

    class Meta:
        verbose_name = "changement de statut de convention"
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="convention_change_changes")
        ]

    def __str__(self):
        return f"{self.convention} : {self.from_status} → {self.to_status}"


class AccountStatus(models.TextChoices):
    INVITED = "invited", "Invité"
    ACTIVE = "active", "Actif"
    DISABLED = "disabled", "Désactivé"


class MembershipBase(models.Model):
    """An account's place in a structure or a caisse. Deactivated, never deleted, so history stays true."""

    is_active = models.BooleanField("actif", default=True)
    joined_at = models.DateTimeField("arrivée", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deactivated_at = models.DateTimeField("désactivé le", null=True, blank=True)
    deactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def account_status(self):
        if not self.is_active:
            return AccountStatus.DISABLED
        return AccountStatus.INVITED if self.user.is_invited else AccountStatus.ACTIVE


class Membership(MembershipBase):
    """A partner account's place in its structure."""

    class Role(models.TextChoices):
        TECHNICIEN = "technicien", "Technicien"
        GESTIONNAIRE = "gestionnaire", "Gestionnaire"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="membership")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("rôle", max_length=12, choices=Role.choices)

    class Meta:
        indexes = [models.Index(fields=["structure", "role", "is_active"])]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.structure})"

    @property
    def is_gestionnaire(self):
        return self.role == self.Role.GESTIONNAIRE


class CaisseMembership(MembershipBase):
    """An agent's or administrateur's place in their caisse."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent CPAM"
        ADMIN = "admin", "Administrateur caisse"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caissemembership")
    caisse = models.ForeignKey(Caisse, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("rôle", max_length=5, choices=Role.choices)

    class Meta:
        indexes = [models.Index(fields=["caisse", "role", "is_active"])]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.caisse})"

    @property
    def is_admin(self):
        return self.role == self.Role.ADMIN
