from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from extranet.notifications.delivery import deliver_email
from extranet.notifications.models import OutgoingEmail


def absolute_url(viewname, *args):
    return settings.SITE_URL + reverse(viewname, args=args)


def send_templated_email(recipient, template, context):
    """Write the email to the outbox in the current transaction and hand it to the worker once it commits:
    a rolled-back action sends nothing, a committed one cannot lose its email. The hand-off runs after the commit:
    if it fails (the connection cut, the task queue unreachable), the action stands and says so; the error is
    logged and `send_pending_emails` sends the email from the outbox.

    ``template`` names a pair ``emails/<template>.subject.txt`` / ``emails/<template>.body.txt``.
    """
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
    body = render_to_string(f"emails/{template}.body.txt", context)
    email = OutgoingEmail.objects.create(recipient=recipient, subject=subject[:255], body=body)

    def hand_to_the_worker():
        deliver_email.enqueue(email.pk)

    transaction.on_commit(hand_to_the_worker, robust=True)
    return email
