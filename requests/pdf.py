from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher


class RefuseEveryURL(URLFetcher):
    """WeasyPrint fetches nothing: no file://, no network, whatever the text of a request contains."""

    def fetch(self, url, headers=None):
        raise ValueError(f"Ressource externe refusée : {url[:80]}")


def render_pdf(template, context):
    # Django's template autoescaping escapes every user-typed value before WeasyPrint reads the HTML.
    html = render_to_string(template, context)
    return HTML(string=html, base_url=None, url_fetcher=RefuseEveryURL()).write_pdf()
