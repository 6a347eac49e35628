"""The one place that builds engines and sessions.

Store functions take a `Session`; who opens and closes it (a web request's teardown, a
worker loop, a CLI command) is the caller's business.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from . import schema

log = logging.getLogger(__name__)

# SQLite lets one writer in at a time; waiting this long for the lock beats failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30


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
        return schema.read_state(self.engine).is_current

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _tune_sqlite)
    return engine


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (long-polls, the CLI) go on while another process writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
