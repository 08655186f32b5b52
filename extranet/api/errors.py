"""Errors the API's views do not raise themselves, turned into the API's JSON."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework.exceptions import ParseError
from rest_framework.views import exception_handler as drf_exception_handler

# Django's limits on what a request may carry: DRF's parsers let them through, and Django would answer in HTML.
OVERSIZED = {
    TooManyFilesSent: "Trop de fichiers dans une seule requête.",
    TooManyFieldsSent: "Trop de champs dans une seule requête.",
    RequestDataTooBig: "Requête trop volumineuse.",
}


def exception_handler(exc, context):
    for limit, message in OVERSIZED.items():
        if isinstance(exc, limit):
            exc = ParseError(message)
    return drf_exception_handler(exc, context)
