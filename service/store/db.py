"""The one place that builds engines and sessions.

Store functions take a `Session`; who opens and closes it (a web request's teardown, a
worker loop, a CLI command) is the caller's business.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
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
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (long-polls, the CLI) go on while another process writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
