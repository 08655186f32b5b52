"""From a valid deposit form (one of the five kinds, or the MAS referral) to the deposit service: shared by the
pages and the API, so that both validate and write alike."""

from requests import mas, services
from requests.models import MAS_REFERRAL_MOTIF, Kind


def deposit_form(form, *, structure, caisse, author):
    """Deposit what the valid form holds. Raises services.DuplicateOpenRequest like the services do."""
    deposit = {
        "structure": structure,
        "caisse": caisse,
        "author": author,
        "person": form.person(),
        "files": form.cleaned_data["attachments"],
    }
    if isinstance(form, mas.MasReferralForm):
        return services.deposit_mas_referral(
            kind=Kind.ACCESS_DIFFICULTY,
            motif=MAS_REFERRAL_MOTIF,
            details={},
            referral=form.referral(),
            consent_document=form.cleaned_data["consent_document"],
            **deposit,
        )
    return services.deposit_request(
        kind=form.kind, motif=form.cleaned_data["motif"], details=form.details(), **deposit
    )
