"""DRF's parsers, with a French refusal: theirs quotes Python's English error ("JSON parse error - Expecting
value: line 1 column 10 (char 9)")."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

UNREADABLE = "Corps de la requête illisible : JSON ou formulaire multipart mal formé."


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError:
            raise ParseError(UNREADABLE) from None


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError:
            raise ParseError(UNREADABLE) from None
