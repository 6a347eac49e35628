"""Which revision of the schema a database is at, and bringing it to the one this release needs.

The revisions live in `migrations/`. A process starting on an empty database creates the
schema; on one that is behind it refuses to start and names `signoff db upgrade`, so that
a half-upgraded fleet never writes to a schema it does not know.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, func, inspect, select

log = logging.getLogger(__name__)

MIGRATIONS = "signoff_service.store:migrations"
UPGRADE_COMMAND = "signoff db upgrade"
# Release 0.1 made its tables with create_all and recorded no revision.
RELEASE_0_1 = "0001"
RELEASE_0_1_TABLE = "human_requests"
# Any fixed number: PostgreSQL advisory locks are named by integers.
UPGRADE_LOCK_ID = 5_170_010


class SchemaNotCurrent(RuntimeError):
    """The database's schema is not the one this release needs; the message says what to do."""


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # None: an empty database
    head: str
    known: bool

    @property
    def is_empty(self) -> bool:
        return self.revision is None

    @property
    def is_current(self) -> bool:
        return self.revision == self.head

    def problem(self) -> str:
        """Why a process must not start on this database (empty when it may)."""
        if self.is_current:
            return ""
        if not self.known:
            return _unknown_revision(self.revision or "")
        if self.is_empty:
            return f"the database has no schema yet; run `{UPGRADE_COMMAND}`"
        return (
            f"the database is at schema revision {self.revision} and this release needs {self.head}; "
            f"run `{UPGRADE_COMMAND}` (once, from any one machine) and start again"
        )


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _is_known(scripts: ScriptDirectory, revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def _unknown_revision(revision: str) -> str:
    return (
        f"the database is at schema revision {revision}, which this release of signoff "
        "does not know: it was upgraded by a newer release; run that release here"
    )


def read_state(engine: Engine) -> SchemaState:
    scripts = _scripts()
    with engine.connect() as connection:
        revision = _revision(connection)
    known = _is_known(scripts, revision)
    return SchemaState(revision=revision, head=scripts.get_current_head() or "", known=known)


def _revision(connection: Connection) -> str | None:
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and inspect(connection).has_table(RELEASE_0_1_TABLE):
        return RELEASE_0_1
    return revision


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to this release's head; returns (from, to) revisions."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Nodes started together wait here for one of them, then find nothing to do.
            connection.execute(select(func.pg_advisory_xact_lock(UPGRADE_LOCK_ID)))
        if connection.dialect.name == "sqlite":
            # SQLite rebuilds a table to change it; the copy must not trip the foreign keys.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        before = _revision(connection)
        if not _is_known(_scripts(), before):
            raise SchemaNotCurrent(_unknown_revision(before))
        config = _config(connection)
        if before == RELEASE_0_1 and MigrationContext.configure(connection).get_current_revision() is None:
            command.stamp(config, RELEASE_0_1)
        command.upgrade(config, "head")
        connection.commit()
        after = _revision(connection) or ""
    if before != after:
        log.info("schema upgraded from revision %s to %s", before or "(empty)", after)
    return before, after


def prepare(engine: Engine) -> None:
    """At a process's start: create the schema in an empty database, refuse one that is not current."""
    state = read_state(engine)
    if state.is_empty:
        upgrade(engine)
        return
    if not state.is_current:
        raise SchemaNotCurrent(state.problem())
