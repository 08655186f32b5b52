from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from extranet.tasks import deliver_email


def absolute_url(viewname, *args):
    return settings.SITE_URL + reverse(viewname, args=args)


def send_templated_email(recipient, template, context):
    """Queue an email once the current transaction commits, so that a rolled-back action sends nothing.

    ``template`` names a pair ``emails/<template>.subject.txt`` / ``emails/<template>.body.txt``.
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    body = render_to_string(f"emails/{template}.body.txt", context)
    transaction.on_commit(partial(deliver_email.enqueue, recipient, subject, body))
