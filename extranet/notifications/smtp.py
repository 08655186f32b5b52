"""Django's SMTP backend, telling the outbox where the hand-off to the relay starts (settings.EMAIL_BACKEND).

Until the relay has accepted the sender and the recipient, it holds nothing of the message: an attempt cut off
before then can be made again. From the DATA command on, the relay may have kept the message even if the
connection dies before its answer arrives: the outbox must then not resend it on its own
(extranet/notifications/delivery.py)."""

import smtplib

from django.core.mail.backends import smtp


class _ReportingClient:
    def data(self, msg):
        self.on_data_start()
        reply = super().data(msg)
        # smtplib raises SMTPDataError unless the relay answered 250: from here the message is the relay's.
        self.on_data_accepted()
        return reply


class _SMTP(_ReportingClient, smtplib.SMTP):
    pass


class _SMTP_SSL(_ReportingClient, smtplib.SMTP_SSL):  # noqa: N801 (smtplib's name)
    pass


class EmailBackend(smtp.EmailBackend):
    """`before_handoff()` is called just before DATA; `handoff_started` and `accepted` tell, after an error, whether
    the relay may hold the message and whether it said it took it."""

    def __init__(self, *args, before_handoff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_handoff = before_handoff
        self.handoff_started = False
        self.accepted = 0

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP

    def open(self):
        opened = super().open()
        if self.connection is not None:
            self.connection.on_data_start = self._on_data_start
            self.connection.on_data_accepted = self._on_data_accepted
        return opened

    def _on_data_start(self):
        if self.before_handoff is not None:
            self.before_handoff()
        self.handoff_started = True

    def _on_data_accepted(self):
        self.accepted += 1
