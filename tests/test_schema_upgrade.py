"""A store written by release 0.1 is refused until `signoff db upgrade`, then works as it did."""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from signoff_service.store.db import normalize_database_url

from signoff_testing import (
    LINK_PATTERN,
    MailSink,
    RunningService,
    link_after,
    signoff_command,
)

RELEASE_0_1 = Path(__file__).parent / "fixtures" / "release-0.1"
RELEASE_0_1_SECRET = "release-0.1-secret"
TEN_YEARS = str(10 * 365 * 24 * 3600)


def _release_key(kind: str) -> str:
    keys = dict(line.split() for line in (RELEASE_0_1 / "keys.txt").read_text().splitlines())
    return keys[kind]


@pytest.fixture
def empty_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of the same kind as `database_url` (a file, or one on that server)."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'signoff.db'}"
        return
    server = make_url(database_url)
    name = f"signoff_upgrade_{os.getpid()}"
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def old_store(empty_store: str) -> tuple[str, str]:
    """(database URL, API key) of a copy of release 0.1's store, untouched since it stopped."""
    if empty_store.startswith("sqlite"):
        shutil.copy(RELEASE_0_1 / "signoff.db", make_url(empty_store).database or "")
        return empty_store, _release_key("sqlite")
    with psycopg.connect(empty_store, autocommit=True) as connection:
        connection.execute((RELEASE_0_1 / "signoff.postgresql.sql").read_text())
    return empty_store, _release_key("postgresql")


def _service(url: str, mail_sink: MailSink, tmp_path: Path) -> RunningService:
    running = RunningService.configure(url, mail_sink, tmp_path)
    running.env.update(SIGNOFF_SECRET_KEY=RELEASE_0_1_SECRET, SIGNOFF_LINK_MAX_AGE_SECONDS=TEN_YEARS)
    return running


def _run(service: RunningService, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [signoff_command(), *args],
        env=service.env,
        cwd=service.workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _emailed_approve_link(url: str, service: RunningService) -> str:
    """The approve link release 0.1 emailed for `pending-call`, pointed at the running service."""
    body = _dev_mail_body(url, "Approval needed: deploy")
    message = email.message_from_bytes(body, policy=email.policy.default)
    link = link_after(message, "Approve:")  # type: ignore[arg-type]
    return re.sub(r"^https?://[^/]+", service.base_url, link)


def _dev_mail_body(url: str, subject: str) -> bytes:
    query = "SELECT body FROM dev_mail WHERE subject = "
    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database) as connection:
            return connection.execute(query + "?", (subject,)).fetchone()[0]
    with psycopg.connect(url) as connection:
        return connection.execute(query + "%s", (subject,)).fetchone()[0]


def test_release_0_1_store_is_refused_then_upgraded_in_place(
    old_store: tuple[str, str], mail_sink: MailSink, tmp_path: Path
) -> None:
    url, key = old_store
    service = _service(url, mail_sink, tmp_path)

    for command in (["serve"], ["keys", "create", "--project", "p"], ["db", "status"]):
        refused = _run(service, *command)
        assert refused.returncode != 0, refused.stdout
        assert "revision 0001" in refused.stderr and "signoff db upgrade" in refused.stderr, refused.stderr

    upgraded = _run(service, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Upgraded the database from revision 0001 to" in upgraded.stdout
    again = _run(service, "db", "upgrade")
    assert "already at revision" in again.stdout, again.stdout + again.stderr
    assert _run(service, "db", "status").returncode == 0

    service.start()
    try:
        api = service.api_url
        headers = {"Authorization": f"Bearer {key}"}
        approved = requests.get(f"{api}/function_calls/approved-call", headers=headers, timeout=10).json()
        assert approved["status"]["approved"] is True and approved["status"]["comment"] == "fine"
        answered = requests.get(f"{api}/contact_requests/question", headers=headers, timeout=10).json()
        assert answered["status"]["response"] == "eu-west, please."

        pending = requests.get(f"{api}/function_calls/pending-call", headers=headers, timeout=10).json()
        assert pending["status"]["approved"] is None
        link = _emailed_approve_link(url, service)
        assert LINK_PATTERN.match(link)
        page = requests.post(link, timeout=10)
        assert page.status_code == 200, page.text
        decided = requests.get(f"{api}/function_calls/pending-call", headers=headers, timeout=10).json()
        assert decided["status"]["approved"] is True

        # The upgraded store takes new work as a new one does.
        created = requests.post(
            f"{api}/function_calls",
            json={
                "run_id": "after-upgrade",
                "call_id": "new-call",
                "spec": {"fn": "rollback", "kwargs": {}, "channel": {"email": {"address": "bo@example.com"}}},
            },
            headers=headers,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        mail_sink.wait_for_mail_to("bo@example.com")
    finally:
        service.stop()


def test_a_store_from_a_newer_release_is_refused(
    empty_store: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    service = _service(empty_store, mail_sink, tmp_path)
    assert _run(service, "db", "upgrade").returncode == 0
    engine = create_engine(normalize_database_url(empty_store))
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for command in (["serve"], ["db", "upgrade"]):
        refused = _run(service, *command)
        assert refused.returncode != 0
        assert "revision 9999" in refused.stderr and "newer release" in refused.stderr, refused.stderr
