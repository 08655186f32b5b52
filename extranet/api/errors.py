"""Errors the API's views do not raise themselves, turned into the API's JSON."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.views import exception_handler as drf_exception_handler

# Django's limits on what a request may carry: DRF's parsers let them through, and Django would answer in HTML.
OVERSIZED = {
    TooManyFilesSent: "Trop de fichiers dans une seule requête.",
    TooManyFieldsSent: "Trop de champs dans une seule requête.",
    RequestDataTooBig: "Requête trop volumineuse.",
}


# The JSON 404 of every unknown address under /api/ (extranet.views.not_found) says the same.
NOT_FOUND = "Introuvable."


def exception_handler(exc, context):
    # Django's message names the model ("No Request matches the given query."), in English: out of reach and
    # nonexistent get the same French answer.
    if isinstance(exc, Http404):
        exc = NotFound(NOT_FOUND)
    for limit, message in OVERSIZED.items():
        if isinstance(exc, limit):
            exc = ParseError(message)
    return drf_exception_handler(exc, context)
