from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetchingError


def refuse_every_url(url, *args, **kwargs):
    """WeasyPrint fetches nothing: no file://, no network, whatever the text of a request contains."""
    raise URLFetchingError(f"Ressource externe refusée : {url[:80]}")


def render_pdf(template, context):
    # Django's template autoescaping escapes every user-typed value before WeasyPrint reads the HTML.
    html = render_to_string(template, context)
    return HTML(string=html, base_url=None, url_fetcher=refuse_every_url).write_pdf()
