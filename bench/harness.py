"""What the benchmarks share: the service started as a user starts it, a mail sink, a load
generator, and the results table each one prints and appends to bench/RESULTS.md.

Every benchmark is one command (`python bench/<name>.py`), with small defaults and a
`--quick` smoke form. Full runs append to RESULTS.md; `--quick` runs only print, unless
`--results FILE` names where to append.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller

from signoff import FunctionCallSpec
from signoff_service.store.db import Database
from signoff_service.store.keys import get_or_create_project
from signoff_service.store.models import FUNCTION_CALL
from signoff_service.store.requests import add_request

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
REPLY_DOMAIN = "replies.bench.example.com"
SERVICE_FROM = "signoff@bench.example.com"
APPROVER = "approver@example.com"
# The server the PostgreSQL benchmarks make their own databases on (and drop them after).
POSTGRES_URL = os.environ.get("SIGNOFF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Far above any benchmark's rate: the benchmarks measure the service, not its limits.
NO_LIMIT = "100000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signoff_command() -> str:
    return str(Path(sys.executable).with_name("signoff"))


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = 60.0, every: float = 0.05
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise TimeoutError(f"gave up after {timeout:g} s waiting for {what}")


def quantile(values: list[float], fraction: float) -> float:
    """The value at `fraction` (0..1) of the sorted values, interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(fraction * 1000) - 1]


# --- the mail sink ---------------------------------------------------------------------------


class MailSink:
    """An aiosmtpd server on loopback that keeps every message it is given (the relay)."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.count = 0
        self.messages: list[EmailMessage] = []
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default) if self.keep else None  # type: ignore[attr-defined]
        with self._lock:
            now = time.monotonic()
            self.first_at = self.first_at or now
            self.last_at = now
            self.count += 1
            if message is not None:
                self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 120.0) -> None:
        wait_until(lambda: self.count >= count, f"{count} emails at the sink (have {self.count})", timeout)


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def link_after(message: EmailMessage, label: str) -> str:
    """The first link in the plain text part after the line that starts with `label`."""
    text = text_part(message)
    start = text.index(label)
    return re.search(r"https?://\S+", text[start:]).group(0)  # type: ignore[union-attr]


# --- the service -----------------------------------------------------------------------------


@dataclass
class Service:
    """`signoff <role>` in a subprocess, configured by SIGNOFF_* env as a user would."""

    workdir: Path
    database_url: str
    relay_port: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("SIGNOFF_")}
        env.update(
            SIGNOFF_HTTP_PORT=str(self.http_port),
            SIGNOFF_SMTP_PORT=str(self.smtp_port),
            SIGNOFF_DATABASE_URL=self.database_url,
            SIGNOFF_OUTBOUND_URL=f"smtp://127.0.0.1:{self.relay_port}" if self.relay_port else "dev",
            SIGNOFF_REPLY_DOMAIN=REPLY_DOMAIN,
            SIGNOFF_FROM=SERVICE_FROM,
            SIGNOFF_SECRET_KEY="bench-secret-key-bench-secret-key",
            SIGNOFF_LOG_LEVEL="warning",
            SIGNOFF_API_REQUESTS_PER_MINUTE=NO_LIMIT,
            SIGNOFF_PAGE_REQUESTS_PER_MINUTE=NO_LIMIT,
            SIGNOFF_INBOUND_MESSAGES_PER_HOUR=NO_LIMIT,
        )
        env.update(self.env)
        self.env = env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/humanlayer/v1"

    def start(self, *command: str, wait_for_http: bool = True) -> subprocess.Popen[bytes]:
        """Start `signoff <command...>`; with wait_for_http, return once /healthz answers."""
        name = "-".join(command).replace("/", "_")
        log = (self.workdir / f"{name}-{len(self.processes)}.log").open("ab")
        process = subprocess.Popen(
            [signoff_command(), *command],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        if wait_for_http:
            wait_until(lambda: self._healthy(process, log.name), f"signoff {name} to answer /healthz", 60)
        return process

    def _healthy(self, process: subprocess.Popen[bytes], log_name: str) -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"signoff exited early:\n{Path(log_name).read_text()}")
        return answers(f"{self.base_url}/healthz")

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [signoff_command(), *args],
            env=self.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"signoff {' '.join(args)} failed: {result.stderr}")
        return result.stdout.strip()

    def create_key(self, project: str = "bench") -> str:
        return self.cli("keys", "create", "--project", project)

    def stop(self, process: subprocess.Popen[bytes] | None = None) -> None:
        for running in [process] if process else list(reversed(self.processes)):
            if running.poll() is None:
                running.terminate()
                try:
                    running.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    running.kill()
                    running.wait()
            self.processes.remove(running)


@contextmanager
def service(database_url: str | None = None, relay_port: int | None = None, **env: str) -> Iterator[Service]:
    """A Service in a fresh working directory (SQLite there unless `database_url`), stopped after."""
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as workdir:
        url = database_url or f"sqlite:///{workdir}/signoff.db"
        running = Service(Path(workdir), url, relay_port, env)
        try:
            yield running
        finally:
            running.stop()


def answers(url: str) -> bool:
    """Whether something listening at `url` answers 2xx yet."""
    try:
        return requests.get(url, timeout=1).ok
    except requests.ConnectionError:
        return False


def peak_rss_mb(pid: int) -> float:
    return _proc_status(pid)["VmHWM"] / 1024


def threads_of(pid: int) -> int:
    return _proc_status(pid)["Threads"]


def _proc_status(pid: int) -> dict[str, int]:
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS", "Threads"):
            figures[name] = int(value.split()[0])
    return figures


def function_call_body(call_id: str, to: str = APPROVER, run_id: str = "bench") -> dict[str, object]:
    return {
        "run_id": run_id,
        "call_id": call_id,
        "spec": {
            "fn": "transfer_funds",
            "kwargs": {"amount": 100, "to": "acct-7"},
            "channel": {"email": {"address": to}},
        },
    }


def function_call_template() -> str:
    """A function call's JSON body for run_wrk's `post_body_template`: `{n}` is its call_id."""
    return json.dumps(function_call_body("{n}"))


# --- mail in bulk: many requests, many messages over SMTP ------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One message as an SMTP client hands it over: the envelope and the bytes."""

    mail_from: str
    to: str
    raw: bytes


def contact_request_body(call_id: str, to: str = APPROVER, msg: str = "") -> dict[str, object]:
    return {
        "run_id": "bench",
        "call_id": call_id,
        "spec": {"msg": msg or f"A question for {call_id}", "channel": {"email": {"address": to}}},
    }


def create_requests(
    running: Service, key: str, kind: str, bodies: list[dict[str, object]], threads: int = 4
) -> None:
    """POST each body to `/humanlayer/v1/<kind>` over `threads` keep-alive connections."""

    def post_all(share: list[dict[str, object]]) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            for body in share:
                session.post(f"{running.api_url}/{kind}", json=body, timeout=60).raise_for_status()

    _in_parallel(post_all, [bodies[start::threads] for start in range(threads)])


def send_over_smtp(port: int, messages: list[Outgoing], connections: int, per_connection: int) -> None:
    """Deliver as a busy mail server would: `connections` at once, `per_connection` messages each."""
    batches = [messages[start : start + per_connection] for start in range(0, len(messages), per_connection)]

    def deliver(share: list[list[Outgoing]]) -> None:
        for batch in share:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
                for message in batch:
                    client.sendmail(message.mail_from, [message.to], message.raw)

    _in_parallel(deliver, [batches[start::connections] for start in range(connections)])


def _in_parallel(work: Callable[[list[Any]], None], shares: list[list[Any]]) -> None:
    with ThreadPoolExecutor(len(shares)) as pool:
        for done in [pool.submit(work, share) for share in shares]:
            done.result()  # raises the first failure


def smtp_answers(port: int) -> bool:
    """Whether an SMTP server on loopback `port` greets us yet."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            return client.noop()[0] == 250
    except (ConnectionError, smtplib.SMTPException):
        return False


@contextmanager
def bare_smtp_sink() -> Iterator[int]:
    """aiosmtpd's own server with its do-nothing Sink handler, in a process of its own; its port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"]
    )
    try:
        wait_until(lambda: smtp_answers(port), "the bare aiosmtpd sink to greet", 30)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- PostgreSQL ------------------------------------------------------------------------------


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on POSTGRES_URL's server (a name no other run uses), dropped after."""
    import psycopg  # only the PostgreSQL benchmarks need it
    from sqlalchemy import make_url

    name = f"{prefix}_{os.getpid()}_{time.time_ns() % 10**9}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> bool:
    import psycopg

    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


# --- load ------------------------------------------------------------------------------------


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    # Answers other than 2xx/3xx and broken connections; timeouts are wrk giving up after 2 s.
    errors: int
    timeouts: int


@dataclass(frozen=True)
class RandomPaths:
    """URL paths made from `template` by putting a random number from 1 to `count` for `{n}`."""

    template: str
    count: int


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    post_body_template: str | None = None,
    random_paths: RandomPaths | None = None,
) -> Load:
    """wrk (one thread) against `url`.

    With `post_body_template`, POSTs where `{n}` is unique per request; with `random_paths`,
    GETs of a path picked at random for each request (on `url`'s host and port).
    """
    script = _wrk_script(headers or {}, post_body_template, random_paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        result = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "-s",
                lua.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(lua.name)
    return _parse_wrk(result.stdout)


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk_script(
    headers: dict[str, str], post_body_template: str | None, random_paths: RandomPaths | None
) -> str:
    lines = [f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}" for name, value in headers.items()]
    if post_body_template is not None and random_paths is not None:
        raise ValueError("wrk runs either unique POSTs or random GETs, not both")
    if post_body_template is not None:
        lines += _unique_posts(post_body_template)
    if random_paths is not None:
        lines += _random_gets(random_paths)
    lines += [
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        '  io.write(string.format("BENCH errors %d timeouts %d\\n",'
        " e.status + e.connect + e.read + e.write, e.timeout))",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _unique_posts(body_template: str) -> list[str]:
    before, _, after = body_template.partition("{n}")
    return [
        'wrk.method = "POST"',
        'wrk.headers["Content-Type"] = "application/json"',
        "counter = 0",
        # A random start, so two runs against one store never reuse a call_id.
        f"prefix = {_lua_string(f'{time.time_ns():x}')}",
        "request = function()",
        "  counter = counter + 1",
        f"  local body = {_lua_string(before)} .. prefix .. '-' .. counter .. {_lua_string(after)}",
        "  return wrk.format(nil, nil, nil, body)",
        "end",
    ]


def _random_gets(paths: RandomPaths) -> list[str]:
    before, _, after = paths.template.partition("{n}")
    return [
        f"math.randomseed({time.time_ns() % 2**31})",
        "request = function()",
        f"  local path = {_lua_string(before)} .. math.random(1, {paths.count}) .. {_lua_string(after)}",
        "  return wrk.format(nil, path)",
        "end",
    ]


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _parse_wrk(output: str) -> Load:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    errors, timeouts = re.search(r"BENCH errors (\d+) timeouts (\d+)", output).groups()  # type: ignore[union-attr]
    return Load(rate, _wrk_ms(percentiles["50"]), _wrk_ms(percentiles["99"]), int(errors), int(timeouts))


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _WRK_UNITS[unit]


def describe(load: Load) -> str:
    """A wrk run as one table cell: rate, latency, and what went wrong if anything did."""
    errors = f", {load.errors} errors" if load.errors else ""
    errors += f", {load.timeouts} over wrk's 2 s timeout" if load.timeouts else ""
    return (
        f"{load.requests_per_second:,.0f} req/s (p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms{errors})"
    )


# --- results ---------------------------------------------------------------------------------


@dataclass
class Figure:
    measure: str
    value: str
    goal: str = ""
    met: bool | None = None


@dataclass
class Results:
    """The table a benchmark prints and appends to RESULTS.md, with when, what and where."""

    title: str
    settings: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measure: str, value: str, goal: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(measure, value, goal, met))

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · commit {git_commit()} · {machine()}",
            "",
            self.settings,
            "",
            "| measure | figure | goal | met |",
            "| --- | --- | --- | --- |",
        ]
        for figure in self.figures:
            met = "" if figure.met is None else ("yes" if figure.met else "**no**")
            lines.append(f"| {figure.measure} | {figure.value} | {figure.goal} | {met} |")
        lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines).rstrip() + "\n"

    def publish(self, args: argparse.Namespace) -> None:
        text = self.markdown()
        print(text)
        target = args.results or (None if args.quick else RESULTS)
        if target is not None:
            with open(target, "a", encoding="utf-8") as results:
                results.write("\n" + text)


def git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            # RESULTS.md itself changes with every full run; only other changes make it "+changes".
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!RESULTS.md"],
            cwd=BENCH_DIR,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{'+changes' if dirty else ''}"


def machine() -> str:
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    cpu = model.group(1).strip() if model else platform.machine()
    memory = f"{memory_kb / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, Python {platform.python_version()}"


def arguments(description: str, **defaults: int) -> argparse.Namespace:
    """The common command line: --quick, --results FILE, and one --<name> N per default."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: small sizes, short runs, no RESULTS.md"
    )
    parser.add_argument(
        "--results", type=Path, help="append the table here (default: bench/RESULTS.md, not with --quick)"
    )
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    return parser.parse_args()


# --- waiting agents: many connections at once, a store filled ahead ---------------------------


def raise_open_file_limit() -> int:
    """Lift this process's open-file limit to the hard limit; services started after inherit it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class HttpConnection:
    """One keep-alive HTTP/1.1 connection on asyncio, so thousands fit in one process."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        timeout: float = 60.0,
    ) -> tuple[int, bytes]:
        """Send one request and read its answer: (status, body). Answers need a Content-Length."""
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        length = f"Content-Length: {len(body)}\r\n" if body else ""
        start = f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n{head}{length}\r\n"
        self._writer.write(start.encode() + body)
        await self._writer.drain()
        answer_head = await asyncio.wait_for(self._reader.readuntil(b"\r\n\r\n"), timeout)
        status = int(answer_head.split(b" ", 2)[1])
        content_length = re.search(rb"(?im)^content-length:\s*(\d+)", answer_head)
        if content_length is None:
            raise ValueError(f"{method} {path}: an answer without Content-Length: {answer_head!r}")
        return status, await self._reader.readexactly(int(content_length.group(1)))

    def close(self) -> None:
        self._writer.close()


def long_poll_waiters(base_url: str) -> int:
    """How many long-polls the service at `base_url` holds now, from its /metrics."""
    # Generous: /metrics queues behind every request the service has yet to answer.
    metrics = requests.get(f"{base_url}/metrics", timeout=120).text
    return int(float(re.search(r"^signoff_long_poll_waiters (\S+)$", metrics, re.MULTILINE).group(1)))  # type: ignore[union-attr]


def fill_store(database_url: str, project: str, call_ids: list[str], to: str = APPROVER) -> None:
    """Store pending function calls as the API would, minus their emails: far faster than POSTs."""
    database = Database(database_url)
    try:
        database.prepare_schema()
        with database.sessions.begin() as session:
            project_id = get_or_create_project(session, project).id
            for call_id in call_ids:
                body = function_call_body(call_id, to)
                add_request(
                    session,
                    project_id=project_id,
                    kind=FUNCTION_CALL,
                    call_id=call_id,
                    run_id=str(body["run_id"]),
                    spec=FunctionCallSpec.model_validate(body["spec"]).model_dump(mode="json"),
                    recipients=[to],
                )
    finally:
        database.dispose()
