"""Scale-out: GET and POST throughput with 1 and with 2 `signoff web` processes on PostgreSQL.

On a fresh PostgreSQL database (`signoff db upgrade`, a key, one request created through the
API), one `signoff web` is loaded by wrk: one process, whose event loop hands the Flask views to
16 threads, so under Python's GIL it uses about one core. Then a second `signoff web` on another
port (the same database and secret key) joins it, and both are loaded at once by two wrk
processes with half the connections each; their rates are summed. Each process is warmed up
first. During every run the CPU time of the web processes, of the database's PostgreSQL backends
and of wrk is read from /proc, beside what the whole machine did:

- GET  /humanlayer/v1/function_calls/<id>
- POST /humanlayer/v1/function_calls      with unique call_ids

    python bench/scale_out.py            # 8 s per measurement
    python bench/scale_out.py --quick    # 1 s each
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests
from harness import (
    Load,
    Results,
    Service,
    arguments,
    describe,
    fresh_postgres_database,
    function_call_body,
    function_call_template,
    run_wrk,
    service,
)

GOAL = 1.6
READ_ME = "read-me"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# One wrk run against one node: (node, seconds, connections) -> Load.
Run = Callable[[Service, float, int], Load]


@dataclass
class CpuSnapshot:
    """CPU seconds used so far: by each process we watch, by wrk, and by the whole machine."""

    processes: dict[int, float]
    children: float  # wrk, once it has exited and been waited for
    own: float  # this script
    machine_busy: float
    machine_idle: float


@dataclass
class CpuUse:
    """Cores in use, on average over a run, by each part."""

    web: list[float]
    postgres: float
    wrk: float
    rest: float  # everything else on the machine: this script, PostgreSQL's own workers, others
    idle: float

    def describe(self) -> str:
        web = " + ".join(f"{cores:.2f}" for cores in self.web)
        return (
            f"web {web}, PostgreSQL {self.postgres:.2f}, wrk {self.wrk:.2f}, "
            f"rest of the machine {self.rest:.2f}, idle {self.idle:.2f} (of {os.cpu_count()})"
        )


@dataclass
class Round:
    loads: list[Load]
    cpu: CpuUse

    @property
    def rate(self) -> float:
        return sum(load.requests_per_second for load in self.loads)

    @property
    def rate_per_web_core(self) -> float:
        return self.rate / sum(self.cpu.web)

    def describe(self) -> str:
        if len(self.loads) == 1:
            return describe(self.loads[0])
        each = " + ".join(f"{load.requests_per_second:,.0f}" for load in self.loads)
        p50s = " / ".join(f"{load.p50_ms:.1f}" for load in self.loads)
        errors = sum(load.errors + load.timeouts for load in self.loads)
        failed = f", failed: {errors}" if errors else ""
        return f"{self.rate:,.0f} req/s ({each}; p50 {p50s} ms{failed})"


def cpu_seconds(pid: int) -> float:
    """User and system time of a process (all its threads) so far; 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_seconds() -> tuple[float, float]:
    """Busy and idle CPU seconds of the whole machine, all cores, since boot."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks) - idle) / CLOCK_TICKS, idle / CLOCK_TICKS


def snapshot(pids: list[int]) -> CpuSnapshot:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    busy, idle = machine_seconds()
    return CpuSnapshot(
        {pid: cpu_seconds(pid) for pid in pids},
        children.ru_utime + children.ru_stime,
        own.ru_utime + own.ru_stime,
        busy,
        idle,
    )


def postgres_backends(database_url: str) -> list[int]:
    """The server processes serving our database (other than the one asking)."""
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_use(before: CpuSnapshot, after: CpuSnapshot, web_pids: list[int], seconds: float) -> CpuUse:
    def used(pid: int) -> float:
        return after.processes.get(pid, 0.0) - before.processes.get(pid, 0.0)

    web = [used(pid) for pid in web_pids]
    postgres = sum(used(pid) for pid in after.processes if pid not in web_pids)
    wrk = after.children - before.children
    busy = after.machine_busy - before.machine_busy
    return CpuUse(
        web=[cores / seconds for cores in web],
        postgres=postgres / seconds,
        wrk=wrk / seconds,
        rest=(busy - sum(web) - postgres - wrk) / seconds,
        idle=(after.machine_idle - before.machine_idle) / seconds,
    )


def load_at_once(nodes: list[Service], run: Run, seconds: float, connections: int) -> Round:
    """`run` against every node at the same time, the connections shared out, with the CPU used."""
    web_pids = [node.processes[0].pid for node in nodes]
    database_url = nodes[0].database_url
    before = snapshot(web_pids + postgres_backends(database_url))
    started = time.monotonic()
    with ThreadPoolExecutor(len(nodes)) as pool:
        loads = list(pool.map(lambda node: run(node, seconds, connections // len(nodes)), nodes))
    elapsed = time.monotonic() - started
    # Backends the pools opened during the run count from zero.
    after = snapshot(web_pids + postgres_backends(database_url))
    return Round(loads, cpu_use(before, after, web_pids, elapsed))


def status_reads(headers: dict[str, str]) -> Run:
    return lambda node, seconds, connections: run_wrk(
        f"{node.api_url}/function_calls/{READ_ME}", seconds, connections, headers
    )


def creates(headers: dict[str, str]) -> Run:
    return lambda node, seconds, connections: run_wrk(
        f"{node.api_url}/function_calls", seconds, connections, headers, function_call_template()
    )


def warm_up(node: Service, runs: list[Run], connections: int) -> None:
    """A second of each run, unmeasured: the first requests of a process are slow."""
    for run in runs:
        run(node, 1, connections)


def measure(nodes: list[Service], runs: list[Run], seconds: float, connections: int) -> list[Round]:
    return [load_at_once(nodes, run, seconds, connections) for run in runs]


def main() -> None:
    args = arguments(__doc__.splitlines()[0], seconds=8, connections=8)
    seconds = 1 if args.quick else args.seconds
    results = Results(
        "7. Scale-out: one and two `signoff web` processes on PostgreSQL",
        f"wrk, 1 thread per process, {args.connections} connections in all "
        f"(half on each of two processes), {seconds} s each; CPU: cores in use on average during each run",
    )
    with fresh_postgres_database("signoff_bench_scale") as url, service(url) as first:
        first.cli("db", "upgrade")
        headers = {"Authorization": f"Bearer {first.create_key()}"}
        runs = [status_reads(headers), creates(headers)]
        first.start("web")
        requests.post(
            f"{first.api_url}/function_calls", json=function_call_body(READ_ME), headers=headers, timeout=10
        ).raise_for_status()
        warm_up(first, runs, args.connections)
        one = measure([first], runs, seconds, args.connections)
        (first.workdir / "second").mkdir()
        second = Service(first.workdir / "second", url)
        try:
            second.start("web")
            warm_up(second, runs, args.connections // 2)
            two = measure([first, second], runs, seconds, args.connections)
        finally:
            second.stop()
    for verb, alone, together in zip(("GET status", "POST create"), one, two, strict=True):
        ratio = together.rate / alone.rate
        results.add(f"one `signoff web`, {verb}", alone.describe())
        results.add(f"two `signoff web`, {verb}, summed", together.describe())
        results.add(f"{verb}, two ÷ one", f"{ratio:.2f}×", f"≥ {GOAL}×", ratio >= GOAL)
        per_core = (alone.rate_per_web_core, together.rate_per_web_core)
        results.add(
            f"{verb}, req/s per core of web, one → two",
            f"{per_core[0]:,.0f} → {per_core[1]:,.0f} ({per_core[1] / per_core[0]:.2f}×)",
        )
        results.add(f"CPU in cores, one `signoff web`, {verb}", alone.cpu.describe())
        results.add(f"CPU in cores, two `signoff web`, {verb}", together.cpu.describe())
    results.publish(args)


if __name__ == "__main__":
    main()
