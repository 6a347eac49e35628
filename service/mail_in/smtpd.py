"""The inbound SMTP server's handler: accept mail for the reply domain, store it, say 250.

Only hooks live here. Parsing and deciding happen afterwards in `receiver`, so a message
is durable before we acknowledge it and a slow check never holds an SMTP session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.exc import SQLAlchemyError

from ..context import Runtime
from ..store import inbound

log = logging.getLogger(__name__)


class ReplyHandler:
    def __init__(self, runtime: Runtime, on_stored: Callable[[int], None]) -> None:
        self._runtime = runtime
        self._on_stored = on_stored
        self._domain = runtime.settings.reply_domain

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
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


def _peer_text(peer: Any) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


def smtp_protocol_factory(runtime: Runtime, handler: ReplyHandler) -> Callable[[], SMTP]:
    settings = runtime.settings

    def make_protocol() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=settings.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=settings.reply_domain,
            ident="signoff",
        )

    return make_protocol
