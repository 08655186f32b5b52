"""From a valid deposit form (one of the kinds, or the MAS referral) to the deposit service, and the service's refusal
back on the form: shared by the pages and the API, so that both validate, write and refuse alike."""

from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.html import format_html

from requests import services, staging
from requests.forms import MasReferralForm


def fingerprint(form, caisse):
    """A keyed digest of what was posted (fields as sent, files by content, the caisse): a key sent again with
    other content is told apart, and nothing of the person can be read back from it."""
    # Kept files count by their content, as the files sent now, not by the ids the page sent back for them.
    unposted = {"csrfmiddlewaretoken", "deposit_token", *(staging.kept_name(name) for name, _ in form.file_fields())}
    fields = sorted((name, values) for name, values in form.data.lists() if name not in unposted)
    files = sorted(
        (name, digest)
        for name in ("attachments", "consent_document")
        for _, _, digest in form.cleaned_data.get(name) or []
    )
    posted = repr((type(form).__name__, caisse.pk, fields, files))
    return salted_hmac("requests.deposit.fingerprint", posted, algorithm="sha256").hexdigest()


def deposit_form(form, *, structure, author, key=None, draft=None):
    """Deposit what the valid form holds, to the caisse it names. Returns the request; or None when the service
    refused it, with the refusal in `form.refused`, its errors in `form.refusal` ({field: [plain messages]}, as the
    API answers them) and its messages on the form, each next to its field (the existing request's number a link,
    for a duplicate).

    `key` (the API's Idempotency-Key), or else the form's one-time token, makes the deposit happen once: sent again,
    it returns the request deposited the first time. The author's `draft` the form was resumed from goes with the
    deposit."""
    key = key or form.cleaned_data.get("deposit_token")
    caisse = form.cleaned_data["caisse"]
    deposit = {
        "structure": structure,
        "caisse": caisse,
        "author": author,
        "person": form.person(),
        "files": form.cleaned_data["attachments"],
        "once": services.Once(key, fingerprint(form, caisse)) if key else None,
        "draft": draft,
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
        form.refused, form.refusal = refusal, refusal.errors
        form.show_refusal(_on_the_page(refusal))
        return None


def _on_the_page(refusal):
    if isinstance(refusal, services.DuplicateOpenRequest):
        number = refusal.existing.number
        link = format_html('<a href="{}">n° {}</a>', reverse("requests:detail", args=[number]), number)
        return {field: [refusal.message(link)] for field in refusal.errors}
    return refusal.errors
