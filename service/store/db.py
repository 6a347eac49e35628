"""The one place that builds engines and sessions.

Store functions take a `Session`; who opens and closes it (a web request's teardown, a
worker loop, a CLI command) is the caller's business.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from . import schema
from .models import Base

log = logging.getLogger(__name__)

# SQLite lets one writer in at a time; waiting this long for the lock beats failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# A database host that went silent must not hold web threads (readiness probes included)
# for the operating system's TCP timeout, which is minutes.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
# Connections kept open: more than the web's WSGI threads plus the workers', so a busy
# process reuses connections instead of opening one per request beyond the pool.
POOL_SIZE = 24
POOL_OVERFLOW = 16


def normalize_database_url(url: str) -> URL:
    """Accept plain sqlite:/// and postgresql:// URLs and pick the driver ourselves."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.engine = _create_engine(self.url)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def prepare_schema(self) -> None:
        """Create the schema if the database is empty; raise `SchemaNotCurrent` if it is behind."""
        schema.prepare(self.engine)

    def schema_is_current(self) -> bool:
        """At this release's revision, with every table and column the models declare."""
        return schema.read_state(self.engine).is_current and self._has_declared_tables()

    def _has_declared_tables(self) -> bool:
        inspector = inspect(self.engine)
        present = set(inspector.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                return False
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            if not columns.issuperset(table.columns.keys()):
                return False
        return True

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        )
    engine = create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    event.listen(engine, "connect", _tune_sqlite)
    WriterQueue(SQLITE_BUSY_TIMEOUT_SECONDS).attach(engine)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (long-polls, the CLI) go on while another process writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class WriterQueue:
    """Lets one transaction of this process write to SQLite at a time, in arrival order.

    SQLite admits one writer and makes the rest retry with growing sleeps (up to 100 ms a
    try), so under load a write waits far longer than the writer ahead of it takes. The
    threads of one process queue here instead; other processes still meet SQLite's lock.
    A transaction takes its turn at its first write and gives it up when its connection
    goes back to the pool, after the commit or rollback has finished.
    """

    _HOLDS_TURN = "signoff_holds_write_turn"

    def __init__(self, patience_seconds: float) -> None:
        self._turn = threading.Lock()
        self._patience_seconds = patience_seconds

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "checkin", self._on_checkin)

    def _before_execute(self, connection: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        if connection.info.get(self._HOLDS_TURN) or _only_reads(statement):
            return
        # Past SQLite's own patience, write anyway: SQLite's lock still keeps writes apart.
        if self._turn.acquire(timeout=self._patience_seconds):
            connection.info[self._HOLDS_TURN] = True
        else:
            log.warning("waited %s s for this process's turn to write to SQLite", self._patience_seconds)

    def _on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(self._HOLDS_TURN, False):
            self._turn.release()


def _only_reads(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(("SELECT", "PRAGMA", "EXPLAIN"))
