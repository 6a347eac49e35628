"""Scaled out on one PostgreSQL: two `signoff web` (one with `--workers 2`), one `signoff smtpd`,
two `signoff worker`.

Each is a process of its own, started as an operator would, sharing nothing but the store.
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

from signoff import ContactChannel, EmailContactChannel, HumanLayer

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    WebhookReceiver,
    free_port,
    link_after,
    reply_headers,
    send_email,
    service_env,
    signoff_command,
    unique_address,
    wait_until,
)

# The connections that nodes of this test's database keep open for LISTEN.
LISTENING_HERE = "datname = current_database() AND query LIKE 'LISTEN %'"


@dataclass
class Node:
    role: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [signoff_command(), self.role, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"signoff {self.role} exited:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class Cluster:
    env: dict[str, str]
    web_ports: list[int]
    smtp_port: int
    nodes: list[Node] = field(default_factory=list)

    def url(self, web: int) -> str:
        return f"http://127.0.0.1:{self.web_ports[web]}/humanlayer/v1"

    def on_web(self, link: str, web: int) -> str:
        """The same emailed link, sent through the other web node (as a load balancer would)."""
        return link.replace(f":{self.web_ports[0]}/", f":{self.web_ports[web]}/")

    def agent(self, key: str, address: str, web: int) -> HumanLayer:
        """An agent talking to one web node, long-polling for up to 30 s at a time."""
        return HumanLayer(
            api_key=key,
            api_base_url=self.url(web),
            contact_channel=ContactChannel(email=EmailContactChannel(address=address)),
            poll_seconds=30,
            wait_timeout_seconds=WAIT_SECONDS,
        )

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [signoff_command(), *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def _listening_connections(cluster: Cluster) -> int:
    with psycopg.connect(cluster.env["SIGNOFF_DATABASE_URL"]) as connection:
        # LISTENING_HERE is this module's own constant, not input.
        query = f"SELECT count(*) FROM pg_stat_activity WHERE {LISTENING_HERE}"  # noqa: S608
        row = connection.execute(query).fetchone()
    return row[0] if row else 0


def _smtp_answers(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=1) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


def _web_answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.fixture
def cluster(scratch_postgres_url: str, mail_sink: MailSink, tmp_path: Path) -> Iterator[Cluster]:
    web_ports, smtp_port = [free_port(), free_port()], free_port()
    env = service_env(scratch_postgres_url, web_ports[0], smtp_port, mail_sink.port)
    env["SIGNOFF_BASE_URL"] = f"http://127.0.0.1:{web_ports[0]}"
    started = Cluster(env, web_ports, smtp_port)
    started.cli("db", "upgrade")  # as an operator does before starting the nodes
    # Web B forks two HTTP processes itself: a decision must reach whichever holds the poll.
    roles = [
        ("web", {"SIGNOFF_HTTP_PORT": str(web_ports[0])}, ()),
        ("web", {"SIGNOFF_HTTP_PORT": str(web_ports[1])}, ("--workers", "2")),
        ("smtpd", {}, ()),
        ("worker", {}, ()),
        ("worker", {}, ()),
    ]
    for n, (role, extra, args) in enumerate(roles):
        node = Node(role, {**env, **extra}, tmp_path / f"{role}-{n}.log")
        node.start(*args)
        started.nodes.append(node)
    for port in web_ports:
        wait_until(lambda port=port: _web_answers(port), what=f"signoff web on {port}")  # type: ignore[misc]
    wait_until(lambda: _smtp_answers(smtp_port), what="signoff smtpd")
    yield started
    for node in started.nodes:
        node.stop()


def test_two_web_one_smtpd_two_workers_on_one_postgresql(
    cluster: Cluster, mail_sink: MailSink, webhook_receiver: tuple[WebhookReceiver, str]
) -> None:
    sink = mail_sink
    key = cluster.cli("keys", "create", "--project", "nodes")
    endpoint, hook_url = webhook_receiver
    added = cluster.cli("webhooks", "add", "--project", "nodes", "--url", hook_url)
    endpoint.secret = added.rsplit("secret: ", 1)[1].strip()
    approver = unique_address("nodes")
    # The agent long-polls web A for up to 30 s at a time: only a cross-node wake returns it sooner.
    hl = cluster.agent(key, approver, web=0)

    @hl.require_approval()
    def scale_up(replicas: int) -> str:
        return f"scaled to {replicas}"

    asked = unique_address("nodes-asked")

    with ThreadPoolExecutor(max_workers=52) as pool:
        blocked = pool.submit(scale_up, replicas=5)
        message = sink.wait_for_mail_to(approver)  # sent by one of the workers: web nodes send nothing
        time.sleep(1)  # the agent is now inside its long-poll on web A
        assert not blocked.done()
        clicked = requests.post(cluster.on_web(link_after(message, "Approve:"), 1), timeout=10)
        assert clicked.status_code == 200
        answered_at = time.monotonic()
        assert blocked.result(timeout=WAIT_SECONDS) == "scaled to 5"
        assert time.monotonic() - answered_at < 1.0, "the decision on web B did not wake web A's long-poll"

        # The database drops every listening connection; the nodes listen again and still wake.
        with psycopg.connect(cluster.env["SIGNOFF_DATABASE_URL"], autocommit=True) as admin:
            dropped = admin.execute(
                f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {LISTENING_HERE}"  # noqa: S608
            ).fetchone()
        assert dropped is not None and dropped[0] == 3  # web A, and web B's two processes
        wait_until(lambda: _listening_connections(cluster) == 3, what="the web nodes to listen again")

        # A reply taken by smtpd wakes an agent waiting on web B.
        hl_b = cluster.agent(key, asked, web=1)
        question = pool.submit(hl_b.human_as_tool(), "Which region?")
        mail = sink.wait_for_mail_to(asked)
        send_email(
            cluster.smtp_port,
            mail_from=asked,
            to=str(mail["Reply-To"]),
            body="eu-west",
            headers=reply_headers(mail),
        )
        replied_at = time.monotonic()
        assert question.result(timeout=WAIT_SECONDS) == "eu-west"
        assert time.monotonic() - replied_at < 1.0, "a reply read by smtpd did not wake web B's long-poll"

        # 50 people (and agents) decide one request at once, through both web nodes.
        racer = unique_address("race")
        body = {
            "run_id": "nodes",
            "call_id": "race-1",
            "spec": {
                "fn": "drop_table",
                "kwargs": {"name": "users"},
                "channel": {"email": {"address": racer}},
            },
        }
        headers = {"Authorization": f"Bearer {key}"}
        assert (
            requests.post(
                f"{cluster.url(0)}/function_calls", json=body, headers=headers, timeout=10
            ).status_code
            == 201
        )
        race_mail = sink.wait_for_mail_to(racer)
        approve, reject = link_after(race_mail, "Approve:"), link_after(race_mail, "Reject:")

        def one_decision(n: int) -> int:
            web = n % 2
            if n % 3 == 0:
                respond = f"{cluster.url(web)}/agent/function_calls/race-1/respond"
                status = {"approved": n % 2 == 0, "comment": f"agent {n}"}
                return requests.post(respond, json=status, headers=headers, timeout=30).status_code
            link = cluster.on_web(approve if n % 2 else reject, web)
            return requests.post(link, data={"text": f"person {n}"}, timeout=30).status_code

        outcomes = Counter(pool.map(one_decision, range(50)))
    assert outcomes == Counter({200: 1, 409: 49}), outcomes
    final = requests.get(f"{cluster.url(1)}/function_calls/race-1", headers=headers, timeout=10).json()
    late = requests.post(
        f"{cluster.url(0)}/agent/function_calls/race-1/respond",
        json={"approved": True},
        headers=headers,
        timeout=10,
    )
    assert late.status_code == 409
    assert final["status"]["approved"] in (True, False)
    detail = late.json()["detail"]
    assert f"already decided by {racer} (link)" in detail or "already decided by api (api)" in detail, detail

    wait_until(
        lambda: any(e["call_id"] == "race-1" for e in endpoint.received), what="the race's webhook delivery"
    )
    time.sleep(1)  # room for a second delivery, were there one
    race_events = [e["event"] for e in endpoint.received if e["call_id"] == "race-1"]
    assert race_events == ["decided"] and endpoint.bad_signatures == 0

    for node in cluster.nodes:
        node.check_alive()
    wait_until(lambda: len(sink.messages_to(asked)) >= 2, what="the confirmation of the reply")
    ours = [sink.messages_to(address) for address in (approver, asked, racer)]
    message_ids = Counter(str(message["Message-ID"]) for messages in ours for message in messages)
    assert max(message_ids.values()) == 1, "an email was sent twice"
