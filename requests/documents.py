"""A request's PDFs: its récapitulatif and its MAS referral sheet, answered the same to the pages and to the API
(the same content, the same file name, the same access journal). The caller has already found the request in the
user's scoped queryset."""

from django.http import Http404, HttpResponse

from extranet.core.pdf import render_pdf
from requests import mas
from requests.journal import Action, journal_read
from requests.models import MasReferral
from requests.summary import status_history, summary_sections

SUMMARY_PDF, MAS_SHEET_PDF = "requests/pdf/summary.html", "requests/pdf/mas_sheet.html"
# What both documents share, then each one's own rules: a rule the document does not use still costs WeasyPrint time.
SUMMARY_CSS = ("requests/pdf/document.css", "requests/pdf/summary.css")
MAS_SHEET_CSS = ("requests/pdf/document.css", "requests/pdf/mas_sheet.css")


def mas_referral(demande):
    """Its MAS referral form: one more query, for the requests with that motif only."""
    if not demande.is_mas_referral:
        return None
    referral = (
        MasReferral.objects.select_related("consent_document", "consent_collected_by", "confirmation_letter_sent_by")
        .filter(request=demande)
        .first()
    )
    if referral is not None:
        referral.request = demande  # already read: the sheet uses it
    return referral


def summary_context(demande):
    """What the request's page and its PDF both show."""
    referral = mas_referral(demande)
    return {
        "demande": demande,
        "referral": referral,
        "summary": summary_sections(
            demande, referral=referral, sheet=mas.sheet_values(referral) if referral else None
        ),
        "status_history": status_history(demande.status_changes),
    }


def _pdf_context(demande):
    # The PDF shows public exchanges only, whoever prints it; the detail page scopes them per user.
    exchanges = list(
        demande.messages.filter(is_internal=False).select_related("author").prefetch_related("attachments")
    )
    return summary_context(demande) | {
        # Files of messages are shown with their message; the files listed here are the request's own.
        "attachments": demande.attachments.filter(message__isnull=True),
        "exchanges": exchanges,
        # Printed first, before the fields: what the reader of a resolved request looks for.
        "answer": next((message for message in reversed(exchanges) if message.is_answer), None),
    }


def render_summary(demande):
    """The récapitulatif's bytes (its caisse, structure, author and agent in charge read with the request)."""
    return render_pdf(SUMMARY_PDF, _pdf_context(demande), css=SUMMARY_CSS)


def render_mas_sheet(sheet, *, caisse, number=""):
    """The MAS referral sheet (`sheet`: mas.sheet_values), addressed to the caisse's Mission accompagnement santé."""
    return render_pdf(MAS_SHEET_PDF, sheet | {"caisse": caisse, "number": number}, css=MAS_SHEET_CSS)


def pdf_response(pdf, filename):
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def summary_response(user, demande):
    """The récapitulatif to download, journaled as a read of the person's data once rendered."""
    pdf = render_summary(demande)
    journal_read(user, demande, Action.PDF)
    return pdf_response(pdf, f"demande-{demande.number}.pdf")


def mas_sheet_response(user, demande):
    """The request's MAS referral sheet, journaled; a 404 for a request that is not a MAS referral."""
    referral = mas_referral(demande)
    if referral is None:
        raise Http404
    journal_read(user, demande, Action.MAS_SHEET)
    pdf = render_mas_sheet(mas.sheet_values(referral), caisse=demande.caisse, number=demande.number)
    return pdf_response(pdf, f"fiche-saisine-{demande.number}.pdf")
