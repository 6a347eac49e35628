"""Helpers for tests that use signoff the way people do: over SMTP, HTTP and the CLI."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session as DbSession

from signoff import ContactChannel, EmailContactChannel, HumanLayer
from signoff_service.store.db import Database, normalize_database_url
from signoff_service.store.keys import create_api_key, get_or_create_project
from signoff_service.store.models import InboundMessage

REPLY_DOMAIN = "replies.example.com"
SERVICE_FROM = "signoff@example.com"
SECRET_KEY = "test-secret-key-not-for-production"
ADMIN_PASSWORD = "test-admin-password-not-for-production"
LINK_PATTERN = re.compile(r"https?://[^\s<>\"']+/d/[A-Za-z0-9_.\-]+")
WAIT_SECONDS = 30
RowT = TypeVar("RowT")
# For tests of what does not depend on the store (protocols, limits counted in memory, cookies):
# the SQLite run alone, which keeps the suite short.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], object], timeout: float = WAIT_SECONDS, what: str = "condition"
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class _SinkHandler:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        self._sink.record(list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        return "250 OK"


@dataclass
class MailSink:
    """A real SMTP server on loopback standing in for the outbound relay."""

    port: int = 0
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, recipients: list[str], message: EmailMessage) -> None:
        with self._lock:
            self.received.append((recipients, message))

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [message for recipients, message in self.received if address.lower() in recipients]

    def wait_for_mail_to(self, address: str, count: int = 1) -> EmailMessage:
        messages = wait_until(
            lambda: (found := self.messages_to(address)) and len(found) >= count and found,
            what=f"mail number {count} to {address}",
        )
        return messages[count - 1]  # type: ignore[index]


def start_mail_sink(**controller_options: object) -> tuple[MailSink, Controller]:
    """A MailSink on a free port; `controller_options` go to aiosmtpd (e.g. TLS contexts)."""
    sink = MailSink()
    controller = Controller(_SinkHandler(sink), hostname="127.0.0.1", port=free_port(), **controller_options)
    controller.start()
    sink.port = controller.port
    return sink, controller


RelayT = TypeVar("RelayT")


def serve_relay(relay: RelayT) -> Iterator[RelayT]:
    """Run the aiosmtpd handler `relay` on a free loopback port (set as its `port`) until closed."""
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    relay.port = controller.port  # type: ignore[attr-defined]
    yield relay
    controller.stop()


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no text part"
    return part.get_content().replace("\r\n", "\n")


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the email has no HTML part"
    return part.get_content().replace("\r\n", "\n")


def links_in(message: EmailMessage) -> list[str]:
    return list(dict.fromkeys(LINK_PATTERN.findall(text_body(message))))


def link_after(message: EmailMessage, label: str) -> str:
    """The link on the line that starts with `label` (e.g. 'Approve:')."""
    for line in text_body(message).splitlines():
        if line.strip().startswith(label):
            found = LINK_PATTERN.search(line)
            if found:
                return found.group(0)
    raise AssertionError(f"no {label!r} link in:\n{text_body(message)}")


@dataclass
class RunningService:
    """`signoff serve` running in a subprocess, as a user would start it."""

    env: dict[str, str]
    workdir: Path
    http_port: int
    smtp_port: int
    database_url: str
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def configure(cls, database_url: str, relay: MailSink, workdir: Path) -> RunningService:
        """A service on free loopback ports, relaying its mail to `relay`; call start()."""
        http_port, smtp_port = free_port(), free_port()
        return cls(
            env=service_env(database_url, http_port, smtp_port, relay.port),
            workdir=workdir,
            http_port=http_port,
            smtp_port=smtp_port,
            database_url=database_url,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/humanlayer/v1"

    @property
    def log_path(self) -> Path:
        return self.workdir / "serve.log"

    def start(self) -> None:
        log = self.log_path.open("ab")
        # A process group of its own, so that kill_hard() takes every thread and child with it.
        self.process = subprocess.Popen(
            [signoff_command(), "serve"],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._healthy, what=f"signoff serve to answer /healthz (log: {self.log_path})")

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"signoff serve exited early:\n{self.log_path.read_text()}")
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill_hard(self) -> None:
        """SIGKILL to the whole process group: a host dying, with no chance to clean up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def run_cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [signoff_command(), *args],
            env=self.env,
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def create_key(self, project: str) -> str:
        result = self.run_cli("keys", "create", "--project", project)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def write_key(self, project: str) -> str:
        """A key for `project`, written to the store the way `signoff keys create` writes one.

        For tests that need a key, not the command: a CLI process costs about a second of CPU,
        and the suite needs hundreds of keys. create_key() runs the command itself.
        """
        database = Database(self.database_url)
        try:
            with database.sessions.begin() as session:
                return create_api_key(session, get_or_create_project(session, project))
        finally:
            database.dispose()

    def rows(self, model: type[RowT]) -> list[RowT]:
        """Every stored row of `model` (a table with an `id`), read straight from the store."""
        engine = create_engine(normalize_database_url(self.database_url))
        try:
            with DbSession(engine) as session:
                return list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]
        finally:
            engine.dispose()

    def inbound_rows(self) -> list[InboundMessage]:
        return self.rows(InboundMessage)

    def processed_inbound_to(self, address: str, count: int = 1) -> list[InboundMessage]:
        """Inbound messages sent to `address`, once `count` of them have been processed."""

        def processed() -> list[InboundMessage]:
            rows = [
                row for row in self.inbound_rows() if address in row.envelope_to and row.status != "received"
            ]
            return rows if len(rows) >= count else []

        return wait_until(processed, what=f"{count} processed message(s) to {address}")  # type: ignore[return-value]


def agent_layer(service: RunningService, key: str, channel: object, **options: object) -> HumanLayer:
    """The SDK as an agent would hold it, giving up after WAIT_SECONDS so a failed test cannot hang."""
    if isinstance(channel, str):
        channel = EmailContactChannel(address=channel)
    if isinstance(channel, EmailContactChannel):
        channel = ContactChannel(email=channel)
    options.setdefault("api_base_url", service.api_url)
    return HumanLayer(api_key=key, contact_channel=channel, wait_timeout_seconds=WAIT_SECONDS, **options)


def signoff_command() -> str:
    return str(Path(sys.executable).with_name("signoff"))


def service_env(database_url: str, http_port: int, smtp_port: int, relay_port: int) -> dict[str, str]:
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(("SIGNOFF_", "HUMANLAYER_"))
    }
    env.update(
        SIGNOFF_HTTP_PORT=str(http_port),
        SIGNOFF_SMTP_PORT=str(smtp_port),
        SIGNOFF_DATABASE_URL=database_url,
        SIGNOFF_OUTBOUND_URL=f"smtp://127.0.0.1:{relay_port}",
        SIGNOFF_REPLY_DOMAIN=REPLY_DOMAIN,
        SIGNOFF_FROM=SERVICE_FROM,
        SIGNOFF_SECRET_KEY=SECRET_KEY,
        SIGNOFF_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SIGNOFF_LOG_LEVEL="debug",
        # The whole suite clicks from 127.0.0.1; the limit's own tests set a small one.
        SIGNOFF_PAGE_REQUESTS_PER_MINUTE="100000",
        # The tests' webhook receivers listen on loopback.
        SIGNOFF_WEBHOOK_PRIVATE_ADDRESSES="true",
        # Far above what any test sends, so only the tests of the limit itself ever meet it.
        SIGNOFF_API_REQUESTS_PER_MINUTE="100000",
    )
    return env


def send_email(
    smtp_port: int,
    *,
    mail_from: str,
    to: str,
    body: str,
    subject: str = "Re: your request",
    envelope_from: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send a reply to the service's inbound SMTP server, as a person's mail server would."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = email.utils.make_msgid(domain="mail.example.org")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
        client.send_message(
            message, from_addr=mail_from if envelope_from is None else envelope_from, to_addrs=[to]
        )


def reply_headers(original: EmailMessage) -> dict[str, str]:
    return {"In-Reply-To": str(original["Message-ID"]), "References": str(original["Message-ID"])}


def answer_by_email(smtp_port: int, person: str, question: EmailMessage, answer: str) -> None:
    """`person` replies to the email `question` with `answer`, in its thread, as a mail client does."""
    send_email(
        smtp_port,
        mail_from=person,
        to=str(question["Reply-To"]),
        body=answer,
        headers=reply_headers(question),
    )


def unique_address(name: str) -> str:
    return f"{name}.{time.monotonic_ns()}@example.com"


@dataclass
class WebhookReceiver:
    """An HTTP endpoint standing in for the project's own server; it checks every signature."""

    secret: str = ""
    fail_first: int = 0
    received: list[dict] = field(default_factory=list)
    bad_signatures: int = 0
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, body: bytes, timestamp: str, signature: str) -> bool:
        # The check docs/webhooks.md tells users to write.
        expected = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(timestamp)) < 300
        return fresh and hmac.compare_digest(f"v1={expected}", signature)

    def take(self, body: bytes, timestamp: str, signature: str) -> int:
        with self.lock:
            self.calls += 1
            if self.calls <= self.fail_first:
                return 503
            if not self.verify(body, timestamp, signature):
                self.bad_signatures += 1
                return 401
            self.received.append(json.loads(body))
            return 204


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Operator:
    """Someone using the dashboard from a browser without JavaScript: plain GETs and form POSTs."""

    def __init__(self, service: RunningService) -> None:
        self.base = f"{service.base_url}/dashboard"
        self.http = requests.Session()

    def get(self, path: str = "/", **params: str) -> requests.Response:
        return self.http.get(self.base + path, params=params, timeout=WAIT_SECONDS, allow_redirects=False)

    def csrf_token(self, path: str = "/login") -> str:
        found = CSRF_FIELD.search(self.get(path).text)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    def login(self, secret: str) -> requests.Response:
        token = self.csrf_token("/login")
        return self.post("/login", secret=secret, csrf_token=token)

    def submit(self, path: str, **fields: str) -> requests.Response:
        """POST a form with the CSRF token the dashboard's pages carry."""
        return self.post(path, csrf_token=self.csrf_token("/"), **fields)

    def post(self, path: str, **fields: str) -> requests.Response:
        return self.http.post(self.base + path, data=fields, timeout=WAIT_SECONDS, allow_redirects=False)


def request_id_of(service: RunningService, call_id: str) -> int:
    from signoff_service.store.models import HumanRequest

    [found] = [row for row in service.rows(HumanRequest) if row.call_id == call_id]
    return found.id
