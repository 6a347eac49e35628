"""How many agents can wait on one node, and how fast they wake when decided in a burst.

Starts `signoff serve` as a user would (SQLite, dev mailbox) on a store already holding N
pending function calls, opens N long-polls at once (`GET .../function_calls/<id>?wait=60`,
one connection each, from one asyncio client), decides every call in a burst through the API
(`POST .../agent/function_calls/<id>/respond`, from a few concurrent deciders), and reports
how long each waiting agent took to hear of its decision, from the moment it was sent, plus
the server's thread count while all wait and its peak memory.

    python bench/waiting_agents.py            # 10,000 agents
    python bench/waiting_agents.py --quick    # 200 agents, a smoke run
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from harness import (
    HttpConnection,
    Results,
    Service,
    arguments,
    fill_store,
    long_poll_waiters,
    peak_rss_mb,
    quantile,
    raise_open_file_limit,
    service,
    threads_of,
)

WAIT_SECONDS = 60
# A long-poll's wait starts when the service reads it, which with thousands queued can be
# well after it was sent: the client allows for that queue.
READ_TIMEOUT = 3 * WAIT_SECONDS
# Connections being opened at once: well under the listen backlog, so no SYN is dropped.
OPENING_AT_ONCE = 200
DECIDERS = 4
WAKE_GOAL_MS = 500
RSS_GOAL_MB = 400


@dataclass
class Run:
    """What one run measured, the timings in seconds."""

    agents: int
    opened_in: float = 0.0
    decided_in: float = 0.0
    threads_while_waiting: int = 0
    decided_at: dict[str, float] = field(default_factory=dict)
    woke_at: dict[str, float] = field(default_factory=dict)
    repolls: int = 0

    def wakes_ms(self) -> list[float]:
        return [(self.woke_at[call_id] - sent) * 1000 for call_id, sent in self.decided_at.items()]


@dataclass
class Api:
    host: str
    port: int
    headers: dict[str, str]

    async def connect(self) -> HttpConnection:
        return await HttpConnection.open(self.host, self.port)


async def wait_for_decision(api: Api, call_id: str, opening: asyncio.Semaphore, run: Run) -> None:
    """One agent: long-poll until its call is decided, polling again when a wait runs out."""
    async with opening:
        connection = await api.connect()
    try:
        path = f"/humanlayer/v1/function_calls/{call_id}?wait={WAIT_SECONDS}"
        while True:
            status, body = await connection.request("GET", path, api.headers, timeout=READ_TIMEOUT)
            if status != 200:
                raise RuntimeError(f"long-poll on {call_id} answered {status}: {body[:200]!r}")
            if json.loads(body)["status"]["approved"] is not None:
                run.woke_at[call_id] = time.perf_counter()
                return
            run.repolls += 1
    finally:
        connection.close()


async def decide(api: Api, call_ids: Iterator[str], run: Run) -> None:
    """One decider: approve calls from the shared iterator over one keep-alive connection."""
    connection = await api.connect()
    headers = {**api.headers, "Content-Type": "application/json"}
    try:
        for call_id in call_ids:
            path = f"/humanlayer/v1/agent/function_calls/{call_id}/respond"
            run.decided_at[call_id] = time.perf_counter()
            status, body = await connection.request("POST", path, headers, b'{"approved": true}')
            if status != 200:
                raise RuntimeError(f"deciding {call_id} answered {status}: {body[:200]!r}")
    finally:
        connection.close()


async def all_waiting(running: Service, agents: int, waiters: list[asyncio.Task[None]]) -> None:
    while await asyncio.to_thread(long_poll_waiters, running.base_url) < agents:
        for waiter in waiters:
            if waiter.done():
                waiter.result()  # a waiter that failed says why
        await asyncio.sleep(0.2)


async def measure(running: Service, pid: int, key: str, call_ids: list[str]) -> Run:
    api = Api("127.0.0.1", running.http_port, {"Authorization": f"Bearer {key}"})
    run = Run(len(call_ids))
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    started = time.perf_counter()
    waiters = [asyncio.create_task(wait_for_decision(api, call_id, opening, run)) for call_id in call_ids]
    await all_waiting(running, len(call_ids), waiters)
    run.opened_in = time.perf_counter() - started
    run.threads_while_waiting = threads_of(pid)
    started = time.perf_counter()
    to_decide = iter(call_ids)
    await asyncio.gather(*(decide(api, to_decide, run) for _ in range(DECIDERS)))
    run.decided_in = time.perf_counter() - started
    await asyncio.gather(*waiters)
    return run


def report(run: Run, rss_mb: float, file_limit: int) -> Results:
    wakes = run.wakes_ms()
    p50, p95, p99 = (quantile(wakes, fraction) for fraction in (0.5, 0.95, 0.99))
    results = Results(
        "3. Waiting agents: long-polls held by one node, woken by a burst of decisions",
        f"`signoff serve`, SQLite, dev mailbox; {run.agents:,} agents, one connection each, "
        f"`?wait={WAIT_SECONDS}`; the calls written to the store ahead (as the API stores them, "
        f"without their emails), decided through the API by {DECIDERS} concurrent deciders; "
        f"open-file limit {file_limit:,}",
    )
    results.add("waiting agents", f"{run.agents:,}")
    results.add(
        "all long-polls open",
        f"{run.opened_in:.1f} s ({run.agents / run.opened_in:,.0f} opened/s)",
    )
    results.add("decision burst", f"{run.decided_in:.1f} s ({run.agents / run.decided_in:,.0f} decisions/s)")
    results.add(
        "wake after decision sent p50 / p95 / p99",
        f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms",
        f"p99 ≤ {WAKE_GOAL_MS} ms",
        p99 <= WAKE_GOAL_MS,
    )
    results.add("server threads while all wait", str(run.threads_while_waiting))
    results.add("server peak RSS", f"{rss_mb:.0f} MB", f"≤ {RSS_GOAL_MB} MB", rss_mb <= RSS_GOAL_MB)
    if run.repolls:
        results.notes.append(
            f"{run.repolls:,} waits ran out at {WAIT_SECONDS} s before their decision and polled again"
        )
    return results


def main() -> None:
    args = arguments(__doc__.splitlines()[0], agents=10_000)
    agents = 200 if args.quick else args.agents
    file_limit = raise_open_file_limit()
    call_ids = [f"agent-{number}" for number in range(agents)]
    with service() as running:
        key = running.create_key()
        fill_store(running.database_url, "bench", call_ids)
        process = running.start("serve")
        run = asyncio.run(measure(running, process.pid, key, call_ids))
        rss_mb = peak_rss_mb(process.pid)
    report(run, rss_mb, file_limit).publish(args)


if __name__ == "__main__":
    main()
