"""Django's SMTP backend, telling the outbox where the hand-off to the relay starts (settings.EMAIL_BACKEND).

Until the relay has read the line "." that ends the message, it holds nothing of it: an attempt cut off before then
can be made again. Once that line is sent, the relay may have kept the message even if the connection dies before
its answer arrives: the outbox must then not resend it on its own (extranet/notifications/delivery.py)."""

import smtplib

from django.core.mail.backends import smtp

END_OF_DATA = b"\r\n.\r\n"


class _ReportingClient:
    """smtplib's client, calling `on_data_start()` once the message has gone out but for its final "." (until the
    relay reads that line, it keeps nothing), and `on_data_accepted()` when the relay answers 250 to it."""

    handing_off = False

    def data(self, msg):
        self.handing_off = True
        try:
            code, reply = super().data(msg)
        finally:
            self.handing_off = False
        if code == 250:
            self.on_data_accepted()
        return code, reply

    def send(self, s):
        if self.handing_off and isinstance(s, bytes) and s.endswith(END_OF_DATA):
            super().send(s[: -len(END_OF_DATA) + 2])
            try:
                self.on_data_start()
            except BaseException:
                # Cut the connection before the "." so that the relay drops the unfinished message.
                self.close()
                raise
            s = END_OF_DATA[2:]
        super().send(s)


class _SMTP(_ReportingClient, smtplib.SMTP):
    pass


class _SMTP_SSL(_ReportingClient, smtplib.SMTP_SSL):  # noqa: N801 (smtplib's name)
    pass


class EmailBackend(smtp.EmailBackend):
    """`before_handoff()` is called just before the message's final "."; `handoff_started` and `accepted` tell,
    after an error, whether the relay may hold the message and whether it said it took it."""

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
