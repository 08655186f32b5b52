from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task


@task()
def deliver_email(recipient, subject, body):
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
