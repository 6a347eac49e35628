"""What every part of a running service shares: settings, store, signer, wake-ups.

One `Runtime` is built per process and handed to the web app, the SMTP server and the
workers; nothing reads globals.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, g
from sqlalchemy.orm import Session

from .broadcast import DecisionBroadcast
from .chat import ChatDelivery
from .chat.platforms import chat_senders
from .config import Settings
from .mail_out.compose import MailComposer
from .ratelimit import RateLimits
from .store.db import Database
from .store.settings import get_or_create_generated_secret
from .tokens import LinkSigner
from .verified_keys import VerifiedKeys
from .waiting import DecisionHub, request_key

log = logging.getLogger(__name__)

EXTENSION_KEY = "signoff"


class Runtime:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.hub = DecisionHub()
        self.broadcast = DecisionBroadcast(database, self.hub)
        self.outbox_wakeup = threading.Event()
        # Proves to the web app that a long-poll header came from our own ASGI layer.
        self.async_wait_secret = secrets.token_hex(16)
        # itsdangerous signs with the last key and verifies with any: old keys first.
        self.secret_keys = [*settings.old_secret_keys, self._secret_key()]
        self.signer = LinkSigner(self.secret_keys, settings.link_max_age_seconds)
        self.composer = MailComposer(settings, self.signer)
        self.verified_keys = VerifiedKeys()
        self.chat = ChatDelivery(settings, self.session, chat_senders(settings))
        self.rate_limits = RateLimits.from_settings(
            settings.api_requests_per_minute,
            settings.page_requests_per_minute,
            settings.inbound_messages_per_hour,
        )

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        database = Database(settings.database_url)
        database.prepare_schema()
        return cls(settings, database)

    def _secret_key(self) -> str:
        if self.settings.secret_key:
            return self.settings.secret_key
        with self.database.sessions.begin() as session:
            key, created = get_or_create_generated_secret(session)
        if created:
            log.warning(
                "No SIGNOFF_SECRET_KEY set: generated a signing key and stored it in the database. "
                "Set secret_key in your config to manage it yourself."
            )
        return key

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction, committed on success (for workers and commands)."""
        with self.database.sessions.begin() as session:
            yield session

    def request_decided(self, request_id: int) -> None:
        """Call after the decision is committed: wakes every long-poll on the request, on any node."""
        self.hub.publish(request_key(request_id))
        self.broadcast.announce(request_id)
        self.outbox_wakeup.set()  # edits of its chat messages, its webhooks' POSTs

    def mail_queued(self) -> None:
        """Call after an outbox row is committed: the sender picks it up now, not at its next tick."""
        self.outbox_wakeup.set()

    def close(self) -> None:
        self.broadcast.stop()
        self.database.dispose()


def runtime() -> Runtime:
    """The runtime of the Flask app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]


def db() -> Session:
    """The current app context's session, opened on first use and closed on teardown."""
    if "db_session" not in g:
        g.db_session = runtime().database.sessions()
    return g.db_session


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
