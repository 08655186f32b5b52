from django import forms

from extranet.core.forms import StyledFormMixin
from extranet.notifications.webhook_delivery import UnsafeAddress, check_destination
from extranet.notifications.webhooks import EVENTS


class WebhookEndpointForm(StyledFormMixin, forms.Form):
    """A new endpoint (pages and API): its address is checked where it resolves now, as each delivery will be."""

    name = forms.CharField(
        label="Nom",
        max_length=100,
        help_text="Pour le reconnaître dans la liste : le logiciel qui reçoit, par exemple « Logiciel de suivi ».",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Donnez un nom au point de réception."},
    )
    url = forms.URLField(
        label="Adresse de réception",
        max_length=500,
        assume_scheme="https",
        help_text="Adresse https:// publique de votre logiciel, qui recevra chaque événement par une requête POST.",
        widget=forms.URLInput(attrs={"autocomplete": "url", "inputmode": "url"}),
        error_messages={"required": "Indiquez l'adresse de réception.", "invalid": "Adresse invalide."},
    )
    events = forms.MultipleChoiceField(
        label="Événements envoyés",
        choices=list(EVENTS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choisissez au moins un événement.",
            "invalid_choice": "Événement inconnu : %(value)s.",
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "webhook_%s")
        super().__init__(*args, **kwargs)

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_destination(url)
        except UnsafeAddress as refused:
            raise forms.ValidationError(str(refused), code="unsafe_address") from refused
        return url
