from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """The access journal is never changed nor deleted, but by its own retention."""


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Le journal des accès ne se modifie pas.")

    def delete(self):
        raise AppendOnlyError("Le journal des accès ne s'efface que par sa durée de conservation.")

    def purge_before(self, cutoff):
        """The one way rows leave: entries older than the retention (PostgreSQL's trigger allows only those)."""
        return models.QuerySet.delete(self.filter(at__lt=cutoff))[0]


class AccessLog(models.Model):
    """Who read a person's data, when, how, and on which request; and who corrected an account's identity."""

    class Action(models.TextChoices):
        DETAIL = "detail", "Consultation de la demande"
        PDF = "pdf", "Récapitulatif PDF"
        ATTACHMENT = "attachment", "Téléchargement d'une pièce jointe"
        MAS_SHEET = "mas_sheet", "Fiche de saisine MAS"
        EXPORT = "export", "Export CSV avec données personnelles"
        API = "api", "Lecture par l'API"
        SEARCH = "search", "Recherche d'une personne"
        # An administrateur corrected the name or phone of an account of the caisse or of one of its structures.
        ACCOUNT_EDIT = "account_edit", "Modification d'un compte"

    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField("accès", max_length=12, choices=Action.choices)
    caisse = models.ForeignKey("structures.Caisse", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey("requests.Request", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target = models.CharField("objet", max_length=200)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = "accès aux données personnelles"
        indexes = [models.Index(fields=["caisse", "-at"], name="accesslog_caisse_newest")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Le journal des accès ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Le journal des accès ne s'efface que par sa durée de conservation.")


def record_access(user, action, *, caisse, request=None, target=""):
    return AccessLog.objects.create(
        user=user,
        action=action,
        caisse=caisse,
        request=request,
        target=(target or getattr(request, "number", ""))[:200],
    )
