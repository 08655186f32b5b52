"""From a valid deposit form (one of the kinds, or the MAS referral) to the deposit service, and the service's refusal
back on the form: shared by the pages and the API, so that both validate, write and refuse alike."""

from django.urls import reverse
from django.utils.html import format_html

from requests import services
from requests.forms import MasReferralForm


def deposit_form(form, *, structure, author):
    """Deposit what the valid form holds, to the caisse it names. Returns the request; or None when the service
    refused it, with its refusal in `form.refusal` ({field: [plain messages]}, as the API answers it) and its messages
    on the form, each next to its field (the existing request's number a link, for a duplicate)."""
    deposit = {
        "structure": structure,
        "caisse": form.cleaned_data["caisse"],
        "author": author,
        "person": form.person(),
        "files": form.cleaned_data["attachments"],
    }
    try:
        if isinstance(form, MasReferralForm):
            return services.deposit_mas_referral(
                referral=form.referral(),
                consent_document=form.cleaned_data["consent_document"],
                notice_given=form.cleaned_data["notice_given"],
                **deposit,
            )
        return services.deposit_request(
            kind=form.kind, motif=form.cleaned_data["motif"], details=form.details(), **deposit
        )
    except services.DepositRefused as refusal:
        form.refusal = refusal.errors
        form.show_refusal(_on_the_page(refusal))
        return None


def _on_the_page(refusal):
    if isinstance(refusal, services.DuplicateOpenRequest):
        number = refusal.existing.number
        link = format_html('<a href="{}">n° {}</a>', reverse("requests:detail", args=[number]), number)
        return {field: [refusal.message(link)] for field in refusal.errors}
    return refusal.errors
