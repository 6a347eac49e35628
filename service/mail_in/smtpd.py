"""The inbound SMTP server's handler: accept mail for the reply domain, store it, say 250.

Only hooks live here. Parsing and deciding happen afterwards in `receiver`, so a message
is durable before we acknowledge it and a slow check never holds an SMTP session. What
can be refused from the envelope alone (a sender over its hourly limit, an address too
long to be one, another domain) is refused here, with a code the sending server understands.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from ..addresses import InvalidAddress, normalize_address
from ..config import Settings, setting_error
from ..context import Runtime
from ..store import inbound

log = logging.getLogger(__name__)

# RFC 5321 4.5.3.1.3: a path is at most 256 octets, the angle brackets included.
MAX_ADDRESS_LENGTH = 254


class ReplyHandler:
    def __init__(self, runtime: Runtime, on_stored: Callable[[int], None]) -> None:
        self._runtime = runtime
        self._on_stored = on_stored
        self._domain = runtime.settings.reply_domain

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if len(address) > MAX_ADDRESS_LENGTH:
            return f"553 5.1.7 The sender address is longer than {MAX_ADDRESS_LENGTH} characters"
        sender = sender_identity(address)
        if self._runtime.rate_limits.inbound.hit(sender) is not None:
            limit = self._runtime.rate_limits.inbound.limit
            # An address on our own domain could be a reply+<token> address: never logged.
            shown = f"a sender @{self._domain}" if sender.endswith(f"@{self._domain}") else sender
            log.warning("inbound rate limit: %s is over %s messages an hour; answered 450", shown, limit)
            return "450 4.7.1 Too many messages from this sender, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(address) > MAX_ADDRESS_LENGTH:
            return f"553 5.1.3 The recipient address is longer than {MAX_ADDRESS_LENGTH} characters"
        _, _, domain = address.rpartition("@")
        if domain.lower() != self._domain:
            return f"550 5.1.1 <{address}>: this server only accepts replies for {self._domain}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        peer = _peer_text(session.peer)
        try:
            inbound_id = await asyncio.to_thread(self._store, peer, envelope, raw)
        except SQLAlchemyError:
            log.exception("inbound: could not store a message from %s", peer)
            # 4xx: the sending server keeps the message and tries again later.
            return "451 4.3.0 Temporary failure storing the message, please retry"
        self._on_stored(inbound_id)
        return f"250 2.0.0 OK: queued as {inbound_id}"

    def _store(self, peer: str, envelope: Envelope, raw: bytes) -> int:
        with self._runtime.session() as session:
            return inbound.store_inbound(
                session,
                peer=peer,
                envelope_from=envelope.mail_from or "",
                envelope_to=list(envelope.rcpt_tos),
                raw=raw,
            )


def sender_identity(address: str) -> str:
    """Whom the per-sender limit counts: one sender however the address is cased."""
    try:
        return normalize_address(address)
    except InvalidAddress:
        return address.strip().lower()


def _peer_text(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def smtp_protocol_factory(runtime: Runtime, handler: ReplyHandler) -> Callable[[], SMTP]:
    """Makes the protocol of each connection; raises ConfigError if the TLS files cannot be used."""
    settings = runtime.settings
    tls_context = starttls_context(settings)

    def make_protocol() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=settings.reply_domain,
            ident="signoff",
            tls_context=tls_context,
        )

    return make_protocol


def starttls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server side of STARTTLS when a certificate and key are configured, else None."""
    cert_file, key_file = settings.smtp_tls_cert_file, settings.smtp_tls_key_file
    if not cert_file and not key_file:
        return None
    _check_readable("smtp_tls_cert_file", cert_file)
    _check_readable("smtp_tls_key_file", key_file)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_file, key_file)
    except ssl.SSLError as exc:
        raise setting_error(
            "smtp_tls_cert_file",
            f"{cert_file} and smtp_tls_key_file {key_file} are not a PEM certificate and its key ({exc})",
        ) from exc
    return context


def _check_readable(key: str, path: str) -> None:
    if not path:
        raise setting_error(key, "STARTTLS needs smtp_tls_cert_file and smtp_tls_key_file; this one is empty")
    try:
        Path(path).read_bytes()
    except OSError as exc:
        raise setting_error(key, f"cannot read {path}: {exc.strerror or exc}") from exc
