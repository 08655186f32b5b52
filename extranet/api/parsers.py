"""The API's parsers: DRF's, with a French refusal (theirs quotes Python's English error, "JSON parse error -
Expecting value: line 1 column 10 (char 9)"), and JSON read with limits: a body the application could not hold
without an error is refused at once, in French, and nothing of its content is quoted (the server's log would keep
it)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from extranet.core.text import UNSTORABLE, is_storable

UNREADABLE = "Corps de la requête illisible : JSON ou formulaire multipart mal formé."
# No body the API reads nests deeper than 3 (a list of choices in an object of the deposit); 32 leaves room for any
# client.
MAX_DEPTH = 32
TOO_DEEP = f"Corps de la requête trop imbriqué : {MAX_DEPTH} niveaux au plus."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Python's parser recurses once a level: a body nested about a thousand deep exhausts the stack.
            raise ParseError(TOO_DEEP) from None
        except ParseError:
            raise ParseError(UNREADABLE) from None
        check_json(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError:
            raise ParseError(UNREADABLE) from None


def check_json(data):
    """Depth and texts, walked without recursion (the body may be nested up to Python's limit): of a JSON body, and
    of the JSON part of a multipart deposit (extranet/api/deposit.py)."""
    pending = [(data, 1, None)]
    while pending:
        value, depth, field = pending.pop()
        if isinstance(value, dict):
            items = [(key, item) for key, item in value.items()]
        elif isinstance(value, list):
            items = [(None, item) for item in value]
        else:
            if isinstance(value, str) and not is_storable(value):
                raise ValidationError({field or "non_field_errors": [UNSTORABLE]})
            continue
        if depth > MAX_DEPTH:
            raise ParseError(TOO_DEEP)
        for key, item in items:
            if key is not None and not is_storable(key):
                raise ValidationError({"non_field_errors": [UNSTORABLE]})
            # The field a text belongs to is named as the client names it, its objects' keys joined by dots
            # (`details.message`, `mas_referral.contexts` for a text in that list): where it looks for the error.
            pending.append((item, depth + 1, field if key is None else f"{field}.{key}" if field else key))


# Operations without files read JSON only: the schema then offers one body, not the same one as JSON and multipart,
# which clients generated from it cannot tell apart (openapi-python-client always sent the multipart one).
JSON_ONLY = [JSONParser]
