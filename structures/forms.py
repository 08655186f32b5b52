from django import forms

from extranet.accounts.forms import IdentityForm
from extranet.core.forms import StyledFormMixin
from extranet.core.validators import validate_event_date
from extranet.core.workdays import Calendar
from structures.models import Convention, Structure
from structures.validators import normalize_siret, validate_siret


class SiretField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "SIRET")
        kwargs.setdefault("help_text", "14 chiffres, espaces acceptés.")
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_siret(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value:
            validate_siret(value)


class StructureForm(StyledFormMixin, forms.ModelForm):
    siret = SiretField()

    class Meta:
        model = Structure
        fields = ["name", "siret", "kind", "headcount", "insured_documents_habilitation"]
        error_messages = {"siret": {"unique": "Une structure avec ce SIRET existe déjà."}}


class ConventionForm(StyledFormMixin, forms.ModelForm):
    reason = forms.CharField(
        label="Motif du changement de statut",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Facultatif. Il est écrit dans l'historique de la convention et dans le courriel qui prévient les "
        "gestionnaires de la structure.",
    )

    class Meta:
        model = Convention
        fields = ["signed_on", "status"]
        widgets = {"signed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        help_texts = {"status": "Sans convention active, la structure ne peut pas déposer de demande à la caisse."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].validators.append(validate_event_date)


class StructureCreateForm(StructureForm):
    """A new structure and its convention with the administrateur's caisse, in one step."""

    signed_on = forms.DateField(
        label="Date de signature de la convention",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_event_date],
    )
    convention_status = forms.ChoiceField(
        label="Statut de la convention", choices=Convention.Status.choices, initial=Convention.Status.ACTIVE
    )

    def clean_siret(self):
        siret = self.cleaned_data["siret"]
        existing = Structure.objects.filter(siret=siret).first()
        if existing:
            raise forms.ValidationError(
                f"Une structure avec ce SIRET existe déjà ({existing.name}). Pour signer une convention avec elle, "
                "utilisez « Conventionner une structure existante »."
            )
        return siret


class ExistingStructureConventionForm(StyledFormMixin, forms.Form):
    siret = SiretField(help_text="Le SIRET de la structure déjà inscrite auprès d'une autre caisse.")
    signed_on = forms.DateField(
        label="Date de signature de la convention",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_event_date],
    )
    status = forms.ChoiceField(label="Statut", choices=Convention.Status.choices, initial=Convention.Status.ACTIVE)

    def __init__(self, *args, caisse, **kwargs):
        self.caisse = caisse
        super().__init__(*args, **kwargs)

    def clean_siret(self):
        siret = self.cleaned_data["siret"]
        structure = Structure.objects.filter(siret=siret).first()
        if structure is None:
            raise forms.ValidationError("Aucune structure n'est inscrite avec ce SIRET : créez-la.")
        if structure.conventions.filter(caisse=self.caisse).exists():
            raise forms.ValidationError(f"{structure.name} a déjà une convention avec votre caisse.")
        self.structure = structure
        return siret


class AccountEditForm(IdentityForm):
    """Once the person has activated their account, only they can change its email (confirmed by a link)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.is_invited:
            self.fields["email"].disabled = True
            self.fields["email"].help_text = "La personne change elle-même son adresse depuis « Mon compte »."
        else:
            self.fields["email"].help_text = "Modifier l'adresse renvoie le lien d'activation à la nouvelle adresse."


class CaisseCalendarForm(StyledFormMixin, forms.Form):
    calendar = forms.ChoiceField(
        label="Jours fériés de la caisse",
        choices=Calendar.choices,
        widget=forms.RadioSelect,
        help_text="Ces jours ne comptent pas dans l'âge des demandes, leurs délais et les relances.",
        error_messages={
            "required": "Choisissez le calendrier de la caisse.",
            "invalid_choice": "Choisissez un des calendriers proposés.",
        },
    )


class IdentityCorrectionForm(IdentityForm):
    """What an administrateur corrects on an account of the caisse or of one of its structures: the name and the
    phone. The email is the person's to change (confirmed by a link), the civility theirs to state."""

    civility = None

    class Meta(IdentityForm.Meta):
        fields = ["last_name", "first_name", "phone"]
