import functools

from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher


class RefuseEveryURL(URLFetcher):
    """WeasyPrint fetches nothing: no file://, no network, whatever the text of a request contains."""

    def fetch(self, url, headers=None):
        raise ValueError(f"Ressource externe refusée : {url[:80]}")


# One font configuration per process: WeasyPrint builds a new one for each render otherwise, and never frees it
# (about 220 KiB lost per PDF, tests/bench/test_inprocess.py). Our application servers run one thread per process.
FONT_CONFIG = FontConfiguration()


@functools.cache
def stylesheet(name):
    """A stylesheet from the templates, parsed once per process: parsing it took a twentieth of a récapitulatif."""
    return CSS(string=render_to_string(name), url_fetcher=RefuseEveryURL(), font_config=FONT_CONFIG)


# Tagged PDF/UA-1: a structure tree from the HTML (headings, tables, lists), the language from <html lang>, the title
# from <title>, shown by readers instead of the file name.
PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}


def render_pdf(template, context, *, css=()):
    """The template as PDF, with the stylesheets named in `css` (templates, in cascade order)."""
    # Django's template autoescaping escapes every user-typed value before WeasyPrint reads the HTML.
    html = render_to_string(template, context)
    return HTML(string=html, base_url=None, url_fetcher=RefuseEveryURL()).write_pdf(
        font_config=FONT_CONFIG, stylesheets=[stylesheet(name) for name in css], **PDF_OPTIONS
    )
