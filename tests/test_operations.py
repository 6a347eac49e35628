"""Operations: liveness and readiness probes, Prometheus metrics, JSON logs.

Each test that changes its database gets a database of its own and a `signoff serve` of
its own on it, so the figures it reads are exactly what it did.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from aiosmtpd.controller import Controller
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, make_url

from signoff import FunctionCallSpec
from signoff_service.config import ConfigError, load_settings
from signoff_service.store.db import normalize_database_url
from signoff_service.store.models import Base

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    free_port,
    link_after,
    send_email,
    unique_address,
    wait_until,
)

# The store's figures are cached for a few seconds; waits here must outlast that.
METRICS_WAIT_SECONDS = 20


@pytest.fixture
def own_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the same server as `database_url`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    name = f"{url.database}_ops"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_service(
    database_url: str, relay: MailSink, workdir: Path, **env: str
) -> Iterator[RunningService]:
    service = RunningService.configure(database_url, relay, workdir)
    service.env.update(env)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def own_service(own_database_url: str, mail_sink: MailSink, tmp_path: Path) -> Iterator[RunningService]:
    with running_service(own_database_url, mail_sink, tmp_path) as service:
        yield service


def drop_table(database_url: str, name: str) -> None:
    engine = create_engine(normalize_database_url(database_url))
    try:
        Base.metadata.tables[name].drop(engine)
    finally:
        engine.dispose()


def scrape(service: RunningService) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample /metrics shows, by name and labels."""
    response = requests.get(f"{service.base_url}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def metric(service: RunningService, name: str, **labels: str) -> float:
    samples = scrape(service)
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, f"no {name}{labels} in /metrics"
    return samples[key]


def wait_for_metric(service: RunningService, name: str, expected: float, **labels: str) -> None:
    deadline = time.monotonic() + METRICS_WAIT_SECONDS
    while (value := metric(service, name, **labels)) != expected:
        assert time.monotonic() < deadline, f"{name}{labels} is {value}, expected {expected}"
        time.sleep(0.2)


def test_healthz_and_readyz_answer_on_a_current_database(service: RunningService) -> None:
    health = requests.get(f"{service.base_url}/healthz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = requests.get(f"{service.base_url}/readyz", timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_readyz_says_the_schema_is_not_current_while_healthz_stays_up(
    own_service: RunningService, own_database_url: str
) -> None:
    assert requests.get(f"{own_service.base_url}/readyz", timeout=10).status_code == 200
    drop_table(own_database_url, "dev_mail")

    ready = requests.get(f"{own_service.base_url}/readyz", timeout=10)
    assert ready.status_code == 503
    body = ready.json()
    assert (body["status"], body["error"]) == ("not_ready", "schema_not_current")
    assert "signoff db upgrade" in body["detail"]
    assert requests.get(f"{own_service.base_url}/healthz", timeout=10).status_code == 200


def test_readyz_says_the_database_is_unreachable_while_healthz_stays_up(
    own_service: RunningService, own_database_url: str, database_url: str
) -> None:
    url = make_url(own_database_url)
    if url.get_backend_name() == "sqlite":
        pytest.skip("a SQLite file cannot be taken away from a running process the way a server can")
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')

    ready = requests.get(f"{own_service.base_url}/readyz", timeout=30)
    assert ready.status_code == 503
    assert ready.json()["error"] == "database_unreachable"
    assert url.database not in ready.text and "postgres" not in ready.text
    health = requests.get(f"{own_service.base_url}/healthz", timeout=10)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    # Metrics still answer, and say the store cannot be read.
    wait_for_metric(own_service, "signoff_database_up", 0)


def test_metrics_follow_requests_mail_replies_and_waiting_agents(
    own_service: RunningService, mail_sink: MailSink
) -> None:
    service = own_service
    key = service.write_key("metrics")
    approver, stranger = unique_address("approver"), unique_address("stranger")
    assert metric(service, "signoff_requests", state="pending") == 0
    assert metric(service, "signoff_long_poll_waiters") == 0

    hl = agent_layer(service, key, approver)

    @hl.require_approval()
    def deploy(version: str) -> str:
        return f"deployed {version}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        # Wall-clock time, as the server measures the latency: the monotonic clock may run a few
        # ms apart from it over ten seconds while the system clock is being slewed.
        asked_at = time.time()
        deployed = pool.submit(deploy, version="2.4.1")
        request_mail = mail_sink.wait_for_mail_to(approver)
        wait_for_metric(service, "signoff_requests", 1, state="pending")
        wait_for_metric(service, "signoff_emails_total", 1, status="sent")
        assert metric(service, "signoff_emails_queued") == 0
        wait_for_metric(service, "signoff_long_poll_waiters", 1)

        send_email(service.smtp_port, mail_from=stranger, to=str(request_mail["Reply-To"]), body="approve")
        service.processed_inbound_to(str(request_mail["Reply-To"]))
        wait_for_metric(service, "signoff_inbound_rejected_total", 1, reason="sender_not_allowed")
        assert metric(service, "signoff_inbound_accepted_total") == 0
        assert metric(service, "signoff_requests", state="pending") == 1

        assert requests.post(link_after(request_mail, "Approve:"), data={"text": ""}, timeout=10).ok
        assert deployed.result(timeout=WAIT_SECONDS) == "deployed 2.4.1"
        elapsed = time.time() - asked_at
        wait_for_metric(service, "signoff_requests", 1, state="approved")
        assert metric(service, "signoff_requests", state="pending") == 0
        assert metric(service, "signoff_decision_latency_seconds_count") == 1
        assert metric(service, "signoff_decision_latency_seconds_bucket", le="+Inf") == 1
        assert 0 < metric(service, "signoff_decision_latency_seconds_sum") <= elapsed
        wait_for_metric(service, "signoff_long_poll_waiters", 0)

        person = unique_address("person")
        answered = pool.submit(agent_layer(service, key, person).human_as_tool(), "Which region?")
        question = mail_sink.wait_for_mail_to(person)
        send_email(service.smtp_port, mail_from=person, to=str(question["Reply-To"]), body="eu-west-1")
        assert answered.result(timeout=WAIT_SECONDS) == "eu-west-1"
        wait_for_metric(service, "signoff_inbound_accepted_total", 1)
        wait_for_metric(service, "signoff_requests", 1, state="answered")
        # The request, the question and the confirmation of the answer.
        wait_for_metric(service, "signoff_emails_total", 3, status="sent")
        assert metric(service, "signoff_decision_latency_seconds_count") == 2
        for state in ("pending", "rejected", "timed_out"):
            assert metric(service, "signoff_requests", state=state) == 0
        assert metric(service, "signoff_inbound_rejected_total", reason="sender_not_allowed") == 1
        assert metric(service, "signoff_emails_total", status="failed") == 0


class RefusingRelay:
    """A relay that knows none of our recipients: every message fails for good."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return "550 5.1.1 no such mailbox here"


@pytest.fixture
def refusing_relay() -> Iterator[MailSink]:
    controller = Controller(RefusingRelay(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield MailSink(port=controller.port)
    controller.stop()


def test_metrics_count_emails_the_relay_refuses(
    own_database_url: str, refusing_relay: MailSink, tmp_path: Path
) -> None:
    with running_service(own_database_url, refusing_relay, tmp_path) as service:
        hl = agent_layer(service, service.write_key("refused"), unique_address("nobody"))
        for table in ("users", "orders"):
            hl.create_function_call(FunctionCallSpec(fn="drop_table", kwargs={"table": table}))
        wait_for_metric(service, "signoff_emails_total", 2, status="failed")
        assert metric(service, "signoff_emails_total", status="sent") == 0
        assert metric(service, "signoff_emails_queued") == 0
        assert metric(service, "signoff_requests", state="pending") == 2


def test_json_logs_are_one_object_a_line_servers_and_errors_included(
    own_database_url: str, mail_sink: MailSink, tmp_path: Path
) -> None:
    with running_service(own_database_url, mail_sink, tmp_path, SIGNOFF_LOG_FORMAT="json") as service:
        approver = unique_address("approver")
        hl = agent_layer(service, service.write_key("logs"), approver)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(hl.human_as_tool(), "Ship it?")
            question = mail_sink.wait_for_mail_to(approver)
            send_email(service.smtp_port, mail_from=approver, to=str(question["Reply-To"]), body="Yes.")
            service.processed_inbound_to(str(question["Reply-To"]))
        # With its table gone, the outbox worker fails each round and logs the traceback.
        drop_table(own_database_url, "outbox_messages")
        wait_until(lambda: '"exception"' in service.log_path.read_text(), what="a logged exception")
    lines = service.log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)
    loggers = {record["logger"] for record in records}
    assert {"uvicorn.error", "mail.log", "signoff_service.workers.outbox"} <= loggers
    failure = next(record for record in records if "exception" in record)
    assert failure["level"] == "ERROR" and "Traceback" in failure["exception"]
    assert "outbox_messages" in failure["exception"]


def test_metrics_can_be_turned_off(mail_sink: MailSink, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'off.db'}"
    with running_service(database_url, mail_sink, tmp_path, SIGNOFF_METRICS_ENABLED="false") as service:
        assert requests.get(f"{service.base_url}/metrics", timeout=10).status_code == 404
        assert requests.get(f"{service.base_url}/readyz", timeout=10).status_code == 200


def test_a_bad_log_format_names_its_setting() -> None:
    assert load_settings(environ={}).log_format == "text"
    assert load_settings(environ={"SIGNOFF_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match="SIGNOFF_LOG_FORMAT"):
        load_settings(environ={"SIGNOFF_LOG_FORMAT": "xml"})
