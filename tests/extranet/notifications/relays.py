"""Real SMTP relays for the outbox's fault tests: aiosmtpd (a real SMTP server, counting what it accepted), and a
scripted relay that stops answering at a chosen step; plus the real `manage.py db_worker` as a subprocess."""

import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Relay:
    """An aiosmtpd server on 127.0.0.1:port. `refuse` maps a recipient to the reply its RCPT gets ("550 …");
    `received` counts the accepted messages by subject. `stop()` and `start()` take it down and back up."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.refuse = {}
        self.received = Counter()
        self.lock = threading.Lock()
        self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        subject = email.message_from_bytes(envelope.content)["Subject"]
        with self.lock:
            self.received[subject] += len(envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()
        self.controller = None

    def total(self):
        with self.lock:
            return sum(self.received.values())


class ScriptedRelay:
    """A relay that accepts connections and answers the SMTP dialogue up to `until`, then says nothing more:
    "greeting" never greets (a silent relay), "data" takes the whole message and never answers it."""

    REPLIES = {b"EHLO": b"250 relay\r\n", b"HELO": b"250 relay\r\n", b"MAIL": b"250 OK\r\n", b"RCPT": b"250 OK\r\n"}

    def __init__(self, until):
        self.until = until
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connected = threading.Event()
        self.message_received = threading.Event()
        self.closing = threading.Event()
        self.clients = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.clients.append(client)
            self.connected.set()
            if self.until != "greeting":
                threading.Thread(target=self._talk, args=(client,), daemon=True).start()

    def _talk(self, client):
        with client.makefile("rb") as lines:
            client.sendall(b"220 relay\r\n")
            for line in lines:
                verb = line[:4].upper()
                if verb == b"DATA":
                    client.sendall(b"354 go ahead\r\n")
                    for data_line in lines:
                        if data_line == b".\r\n":
                            self.message_received.set()
                            self.closing.wait()  # never answers the message
                            return
                elif verb in self.REPLIES:
                    client.sendall(self.REPLIES[verb])

    def close(self):
        self.closing.set()
        self.server.close()
        for client in self.clients:
            client.close()


def database_url():
    database = settings.DATABASES["default"]
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return f"postgres://{database['USER']}{password}@{host}:{port}/{database['NAME']}"


class WorkerProcess:
    """`manage.py db_worker` on the test database, sending through `relay_port`, its error output appended to
    `log_path`; `env` adds settings."""

    COMMAND = ["db_worker", "--no-reload", "--no-startup-delay", "--interval=0.1"]

    def __init__(self, relay_port, log_path, **env):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": database_url(),
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(relay_port),
            "LOG_LEVEL": "WARNING",
            **{name: str(value) for name, value in env.items()},
        }
        self.process = None
        self.log_path = log_path

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 — the test's own interpreter and the project's manage.py
                [sys.executable, str(ROOT / "manage.py"), *self.COMMAND],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        return self

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self):
        """What the worker wrote to its error output (for a failing test's message)."""
        return Path(self.log_path).read_text(errors="replace")[-3000:]


def wait_for(condition, timeout, step=0.05):
    """Poll `condition` until true (returns True) or `timeout` seconds passed (returns False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
