from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model

from extranet.accounts.models import MAX_ACTIVE_TOKENS, ApiToken, Civility
from extranet.core.forms import StyledFormMixin
from extranet.core.validators import normalize_french_phone

# Django's message says only "valid": an address with an accent before the @ (inès.faure@…) is refused without
# saying why. Django's validator accepts ASCII only there, as most mail servers do.
EMAIL_ERRORS = {
    "invalid": "Saisissez une adresse électronique de la forme nom@domaine.fr. Avant le « @ », sont acceptés les "
    "lettres sans accent, les chiffres et les signes . _ - + ; les lettres accentuées (é, è, ç…) et les espaces ne "
    "le sont pas."
}


class LoginForm(StyledFormMixin, auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label="Adresse électronique",
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
        error_messages=EMAIL_ERRORS,
    )
    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect.",
        "inactive": "Adresse électronique ou mot de passe incorrect.",
    }


class PasswordResetRequestForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label="Adresse électronique",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages=EMAIL_ERRORS,
    )


STRENGTH_RULES = (
    "Au moins 12 caractères ; ni un mot de passe courant, ni uniquement des chiffres ; rien qui ressemble à votre "
    "nom, votre prénom ou votre adresse électronique."
)


class NewPasswordMixin:
    """The rules said once, as the new password's help (read out with its field), and a password they refuse
    reported at that field: Django reports it on the confirmation, where the user looks for a mismatch only."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = STRENGTH_RULES

    def validate_password_for_user(self, user, password_field_name=None):
        super().validate_password_for_user(user, "new_password1")


class SetPasswordForm(StyledFormMixin, NewPasswordMixin, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(StyledFormMixin, NewPasswordMixin, auth_forms.PasswordChangeForm):
    pass


class EmailChangeForm(StyledFormMixin, forms.Form):
    new_email = forms.EmailField(
        label="Nouvelle adresse électronique",
        help_text="Un lien de confirmation sera envoyé à cette adresse ; le changement prend effet quand vous "
        "l'ouvrez.",
        error_messages=EMAIL_ERRORS,
    )
    password = forms.CharField(
        label="Mot de passe actuel", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("Mot de passe incorrect.")
        return password

    def clean_new_email(self):
        email = self.cleaned_data["new_email"]
        if email.lower() == self.user.email.lower():
            raise forms.ValidationError("C'est déjà l'adresse de votre compte.")
        return email


class IdentityForm(StyledFormMixin, forms.ModelForm):
    """A person's details, as entered by whoever creates or edits their account."""

    civility = forms.ChoiceField(label="Civilité", choices=Civility.choices, widget=forms.RadioSelect)

    class Meta:
        model = get_user_model()
        fields = ["civility", "last_name", "first_name", "email", "phone"]
        widgets = {"phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})}
        help_texts = {"email": "Le lien d'activation du compte sera envoyé à cette adresse."}
        error_messages = {"email": EMAIL_ERRORS}

    def clean_email(self):
        email = self.cleaned_data["email"]
        others = get_user_model().objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            # The code tells a program which refusal it is (the API answers it, extranet/api/errors.py).
            raise forms.ValidationError(
                "Cette adresse électronique est déjà associée à un compte.", code="email_already_used"
            )
        return email

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        return normalize_french_phone(phone) if phone else phone


class NotificationPreferencesForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = [
            "notify_take_charge",
            "notify_daily_digest",
            "notify_partner_reply",
            "notify_new_request_messages",
            "notify_followed",
        ]

    PARTNER_ONLY = ("notify_take_charge",)
    CAISSE_ONLY = ("notify_daily_digest", "notify_partner_reply", "notify_new_request_messages")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each person sees only what concerns their role (the star is everyone's).
        for name in self.PARTNER_ONLY if self.instance.caisse_membership is not None else self.CAISSE_ONLY:
            del self.fields[name]


class SecondFactorCodeForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label="Code de vérification",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}),
        error_messages={"required": "Saisissez le code."},
    )

    def __init__(self, *args, by_email, **kwargs):
        super().__init__(*args, **kwargs)
        # Where this account's codes come from, and only that: an application's user is never told of an email.
        source = "reçus par courriel" if by_email else "affichés par votre application d'authentification"
        self.fields["code"].help_text = f"Les 6 chiffres {source}, ou l'un de vos codes de secours."


class EnrolmentCodeForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label="Code à 6 chiffres",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}),
        error_messages={
            "required": "Saisissez le code à 6 chiffres.",
            "min_length": "Le code comporte 6 chiffres.",
            "max_length": "Le code comporte 6 chiffres.",
        },
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise forms.ValidationError("Le code ne contient que des chiffres.")
        return code


class ApiTokenForm(StyledFormMixin, forms.Form):
    """A new personal API key: only its name is asked; the account may hold a limited number of active ones."""

    name = forms.CharField(
        label="Nom du jeton",
        max_length=100,
        help_text="Pour le reconnaître dans la liste : le logiciel ou l'usage, par exemple « Logiciel de suivi ».",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": "Donnez un nom au jeton.",
            "max_length": "Le nom ne doit pas dépasser %(limit_value)d caractères (il en compte %(show_value)d).",
        },
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        kwargs.setdefault("auto_id", "jeton_%s")
        super().__init__(*args, **kwargs)

    def clean_name(self):
        if ApiToken.objects.active().filter(user=self.user).count() >= MAX_ACTIVE_TOKENS:
            raise forms.ValidationError(
                f"Vous avez déjà {MAX_ACTIVE_TOKENS} jetons actifs, le maximum : révoquez-en un avant d'en créer "
                "un autre."
            )
        return self.cleaned_data["name"]
