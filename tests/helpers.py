import html as html_module
import re

from django.core import mail

LINK = re.compile(r"https?://\S+")


def last_link(to):
    """The link in the last email sent to this address."""
    messages = [message for message in mail.outbox if to in message.to]
    assert messages, f"no email sent to {to}"
    return LINK.findall(messages[-1].body)[0]


def path_of(link):
    return "/" + link.split("/", 3)[3]


def visible_text(html):
    """Text a reader sees in this HTML, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def text(response):
    return visible_text(response.content.decode())
