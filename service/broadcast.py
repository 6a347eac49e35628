"""Tell every node that a request was decided, so that long-polls held anywhere wake.

On PostgreSQL a decision is announced with NOTIFY; each process that holds long-polls
LISTENs on a connection of its own and fires its local tickets. A dropped connection is
re-opened, and a slow poll of the requests being waited on covers notifications missed
meanwhile. SQLite has no NOTIFY, so there the poll is short: it is how one process learns
of a decision made by another on the same file.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import text

from .store.db import Database
from .store.requests import decided_among
from .waiting import DecisionHub, request_ids_waited_on, request_key

log = logging.getLogger(__name__)

CHANNEL = "signoff_decided"
POSTGRES_SAFETY_POLL_SECONDS = 2.0
SQLITE_POLL_SECONDS = 0.2
RECONNECT_SECONDS = 1.0


class DecisionBroadcast:
    def __init__(self, database: Database, hub: DecisionHub) -> None:
        self._database = database
        self._hub = hub
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def announce(self, request_id: int) -> None:
        """Call after the decision is committed; other processes' long-polls wake."""
        if self._database.is_sqlite:
            return  # their poll finds it
        try:
            with self._database.engine.connect() as connection:
                connection.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {
                        "channel": CHANNEL,
                        "payload": str(request_id),
                    },
                )
                connection.commit()
        except Exception:
            # The decision is committed either way; the other nodes' poll will find it.
            log.exception("could not announce the decision on request %s", request_id)

    def start(self) -> None:
        """Listen for other processes' decisions (in processes that hold long-polls)."""
        if self._database.is_sqlite:
            self._spawn(self._poll_forever, SQLITE_POLL_SECONDS)
        else:
            self._spawn(self._listen_forever)
            self._spawn(self._poll_forever, POSTGRES_SAFETY_POLL_SECONDS)

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="decision-broadcast", daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _listen_forever(self) -> None:
        conninfo = self._database.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stopping.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.wake_decided()  # anything decided while we were not listening
                    self._relay_notifications(connection)
            except psycopg.Error as exc:
                log.warning("decision listener lost its connection (%s); reconnecting", exc)
                self._stopping.wait(RECONNECT_SECONDS)

    def _relay_notifications(self, connection: psycopg.Connection) -> None:
        while not self._stopping.is_set():
            for notification in connection.notifies(timeout=1.0):
                if notification.payload.isdigit():
                    self._hub.publish(request_key(int(notification.payload)))

    def _poll_forever(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                self.wake_decided()
            except Exception:
                log.exception("decision poll failed; trying again in %s s", interval)

    def wake_decided(self) -> None:
        """Fire the tickets of every waited-on request that is decided in the store."""
        waited = request_ids_waited_on(self._hub)
        if not waited:
            return
        with self._database.sessions() as session:
            decided = decided_among(session, list(waited))
        for request_id in decided:
            self._hub.publish(request_key(request_id))
