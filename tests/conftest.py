"""Fixtures: a real relay sink, `signoff serve` on SQLite and on PostgreSQL, headless Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from signoff_testing import (
    MailSink,
    RunningService,
    WebhookReceiver,
    start_mail_sink,
)

# CI points this at its PostgreSQL; on a developer's machine the same default is tried.
POSTGRES_URL = os.environ.get("SIGNOFF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Set in CI so that a missing PostgreSQL fails the run instead of skipping half the suite.
REQUIRE_POSTGRES = os.environ.get("SIGNOFF_TEST_REQUIRE_POSTGRES") == "1"
CHROMIUM = os.environ.get("SIGNOFF_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SIGNOFF_TEST_REQUIRE_BROWSER") == "1"
# Flags for a root sandbox with no network beyond loopback: no background fetches.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


CASES_TRIED = "cases tried"


@pytest.fixture
def report_cases(record_property: Callable[[str, object], None]) -> Callable[[str], None]:
    """Note how many cases a fuzzer tried; the run's summary lists them, even with -q.

    Kept as a property of the test's report, which is what reaches the main process from
    the parallel workers.
    """
    return lambda line: record_property(CASES_TRIED, line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [
        f"{report.nodeid}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == CASES_TRIED
    ]
    if lines:
        terminalreporter.section("cases tried by the fuzzers")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _clean_signoff_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK reads these; a developer's own settings must not leak into tests.
    for name in list(os.environ):
        if name.startswith(("SIGNOFF_", "HUMANLAYER_")) and not name.startswith("SIGNOFF_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSink]:
    sink, controller = start_mail_sink()
    yield sink
    controller.stop()


def _postgres_or_skip() -> str:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        message = (
            f"PostgreSQL not reachable at {POSTGRES_URL} ({exc}). To run the PostgreSQL half of the suite, "
            "start a server (user postgres, trust auth, database test) on 127.0.0.1:5432 or set "
            "SIGNOFF_TEST_POSTGRES_URL to one you have."
        )
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'signoff.db'}"
        return
    # A database of this run's own, so that runs side by side never share tables.
    with _scratch_postgres_database("signoff_test") as url:
        yield url


@contextmanager
def _scratch_postgres_database(prefix: str) -> Iterator[str]:
    admin_url = _postgres_or_skip()
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def private_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A store of the test's own, of the same kind: no other running service works on it."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'private.db'}"
        return
    with _scratch_postgres_database("signoff_private") as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store of one test module's own, of the same kind: for a module sharing a service of its own."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('module') / 'module.db'}"
        return
    with _scratch_postgres_database("signoff_module") as url:
        yield url


@pytest.fixture
def scratch_postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database for one test (skipped, or failed in CI, without a server)."""
    with _scratch_postgres_database("signoff_scratch") as url:
        yield url


@pytest.fixture(scope="session")
def service(
    database_url: str, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    running = RunningService.configure(database_url, mail_sink, tmp_path_factory.mktemp("service"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def project_key(service: RunningService, request: pytest.FixtureRequest) -> str:
    """A fresh project per test, its key written to the store while serve runs."""
    return service.write_key(f"project-{request.node.name}")


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[WebhookReceiver, str]]:
    """A WebhookReceiver served over HTTP on loopback, and its URL."""
    found = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = found.take(
                body,
                self.headers.get("X-Signoff-Timestamp", "0"),
                self.headers.get("X-Signoff-Signature", ""),
            )
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield found, f"http://127.0.0.1:{server.server_address[1]}/hooks/signoff"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install it (apt-get install -y chromium) to run browser tests"
        )
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
