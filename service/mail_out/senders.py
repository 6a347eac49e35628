"""Where composed mail goes: an SMTP relay, or the built-in dev mailbox. One `send()` each."""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import time
from typing import Protocol
from urllib.parse import unquote, urlsplit

from ..config import Settings, setting_error
from ..store import devmail
from ..store.db import Database

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# A relay connection unused this long is closed: relays drop idle clients themselves, and a
# quiet outbox should not hold one of their connection slots.
RELAY_IDLE_SECONDS = 5.0


class SendError(Exception):
    """Delivery failed; `permanent` says whether trying again can help, and `retry_after`
    how many seconds the other side asked us to wait first (a rate limit), if it said."""

    def __init__(self, message: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class MailSender(Protocol):
    def send(self, mail_from: str, recipients: list[str], subject: str, body: bytes) -> None: ...

    def close_if_idle(self) -> None:
        """Nothing is due: let go of what the last sends held open, once it has been idle a while."""

    def close(self) -> None:
        """The sender is done with: let go of everything it holds."""


class SmtpRelay:
    """A relay reached by smtp://, smtp+starttls:// or smtps://; TLS uses `tls_context` (verifying).

    One connection serves message after message while mail keeps coming, and is closed once
    idle for RELAY_IDLE_SECONDS. If a reused connection turns out to be gone (the relay hung
    up or timed us out), the message is tried once more on a fresh connection before the
    attempt counts as failed. Not thread-safe: one sender per thread.
    """

    def __init__(self, url: str, timeout_seconds: float, tls_context: ssl.SSLContext | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        self.tls_context = tls_context or ssl.create_default_context()
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                f"outbound_url {url!r}: expected dev, smtp://host:port, smtp+starttls://... or smtps://..."
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self._client: smtplib.SMTP | None = None
        self._last_used = 0.0
        self._local_hostname: str | None = None

    def send(self, mail_from: str, recipients: list[str], subject: str, body: bytes) -> None:
        try:
            self._send_over_a_connection(mail_from, recipients, body)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(
                f"relay refused recipients: {exc.recipients}", permanent=_all_permanent(codes)
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            # Not permanent: the operator may fix the trust (outbound_ca_file) and the mail waits.
            raise SendError(
                f"relay {self.host}:{self.port}: its TLS certificate did not verify ({exc.verify_message}); "
                "for a private CA set outbound_ca_file",
                permanent=False,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise SendError(
                f"relay answered {exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"relay {self.host}:{self.port} unreachable: {exc}", permanent=False) from exc

    def close_if_idle(self) -> None:
        if self._client is not None and time.monotonic() - self._last_used >= RELAY_IDLE_SECONDS:
            self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()  # it was going away anyway

    def _send_over_a_connection(self, mail_from: str, recipients: list[str], body: bytes) -> None:
        if self._client is not None:
            try:
                self._send_on(self._client, mail_from, recipients, body)
                return
            except Exception as exc:
                if not _connection_lost(exc):
                    raise
                log.info(
                    "relay %s:%s closed a reused connection (%s); sending on a new one",
                    self.host,
                    self.port,
                    exc,
                )
        self._client = self._connect()
        self._send_on(self._client, mail_from, recipients, body)

    def _send_on(self, client: smtplib.SMTP, mail_from: str, recipients: list[str], body: bytes) -> None:
        """After a failure the connection is closed: its state is not to be trusted again."""
        try:
            client.sendmail(mail_from, recipients, body)
        except Exception:
            client.close()
            self._client = None
            raise
        self._last_used = time.monotonic()

    def _connect(self) -> smtplib.SMTP:
        if self._local_hostname is None:
            # smtplib would look our name up again for every connection.
            self._local_hostname = socket.getfqdn()
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self._local_hostname,
                timeout=self.timeout_seconds,
                context=self.tls_context,
            )
        else:
            client = smtplib.SMTP(
                self.host, self.port, local_hostname=self._local_hostname, timeout=self.timeout_seconds
            )
        try:
            if self.scheme == "smtp+starttls":
                client.starttls(context=self.tls_context)
            if self.username:
                client.login(self.username, self.password or "")
        except Exception:
            client.close()
            raise
        return client


def _all_permanent(codes: list[int]) -> bool:
    return all(code >= 500 for code in codes)


# 421: the relay is closing the connection, whatever command it answers.
CLOSING = 421


def _connection_lost(exc: Exception) -> bool:
    """Whether `exc` says the connection is gone, rather than that the relay refused the message.

    A timeout is not among them: a relay that hangs would most likely hang a new connection too.
    """
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == CLOSING
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(code == CLOSING for code, _ in exc.recipients.values())
    return isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError))


class DevMailbox:
    """Keeps mail in the database, shown at /dev/mail, for trying signoff without a relay."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def send(self, mail_from: str, recipients: list[str], subject: str, body: bytes) -> None:
        with self._database.sessions.begin() as session:
            devmail.deliver(session, recipients=recipients, subject=subject, body=body)
        log.info("dev mailbox: kept %r for %s", subject, ", ".join(recipients))

    def close_if_idle(self) -> None:
        """Holds nothing open."""

    def close(self) -> None:
        """Holds nothing open."""


def sender_for(settings: Settings, database: Database) -> MailSender:
    if settings.uses_dev_mailbox:
        return DevMailbox(database)
    return SmtpRelay(settings.outbound_url, settings.outbound_timeout_seconds, relay_tls_context(settings))


def relay_tls_context(settings: Settings) -> ssl.SSLContext:
    """Checks the relay's certificate and host name, against outbound_ca_file or the system's CAs."""
    if not settings.outbound_tls_verify:
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        log.warning("outbound: outbound_tls_verify is off; the relay's certificate is not checked")
        return unverified
    try:
        return ssl.create_default_context(cafile=settings.outbound_ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise setting_error(
            "outbound_ca_file", f"cannot load {settings.outbound_ca_file} as PEM certificates ({exc})"
        ) from exc
