"""How many agents can wait on one node, and how fast they wake.

Starts `signoff serve` as a user would (SQLite, dev mailbox), opens N long-polls at once,
decides every request in a burst through the API, and reports how long each waiting
agent took to hear of its decision, plus the server's thread count and peak memory.

    python bench/waiting_agents.py            # 1,000 agents
    python bench/waiting_agents.py --quick    # 50 agents, a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from harness import free_port, peak_rss_mb, threads_of

WAIT_SECONDS = 60


def start_service(workdir: Path) -> tuple[subprocess.Popen, str, dict]:
    http_port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("SIGNOFF_")}
    env.update(
        SIGNOFF_HTTP_PORT=str(http_port), SIGNOFF_SMTP_PORT=str(free_port()), SIGNOFF_LOG_LEVEL="warning"
    )
    signoff = str(Path(sys.executable).with_name("signoff"))
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen([signoff, "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    key = subprocess.run(
        [signoff, "keys", "create", "--project", "bench"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return process, f"{base}/humanlayer/v1", {"Authorization": f"Bearer {key}"}


def run(agents: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        process, api, headers = start_service(Path(workdir))
        try:
            measure(process.pid, api, headers, agents)
        finally:
            process.terminate()
            process.wait(timeout=15)


def measure(pid: int, api: str, headers: dict, agents: int) -> None:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=agents + 10))
    call_ids = [f"bench-{index}" for index in range(agents)]
    for call_id in call_ids:
        body = {
            "run_id": "bench",
            "call_id": call_id,
            "spec": {"fn": "noop", "kwargs": {}, "channel": {"email": {"address": "bench@example.com"}}},
        }
        session.post(f"{api}/function_calls", json=body, headers=headers, timeout=30).raise_for_status()

    decided_at: dict[str, float] = {}
    woke_at: dict[str, float] = {}
    all_waiting = threading.Barrier(agents + 1)

    def wait_for(call_id: str) -> None:
        all_waiting.wait()
        response = session.get(
            f"{api}/function_calls/{call_id}",
            params={"wait": WAIT_SECONDS},
            headers=headers,
            timeout=WAIT_SECONDS + 10,
        )
        woke_at[call_id] = time.monotonic()
        assert response.json()["status"]["approved"] is True, response.text

    with ThreadPoolExecutor(max_workers=agents) as pool:
        waiters = [pool.submit(wait_for, call_id) for call_id in call_ids]
        all_waiting.wait()
        time.sleep(2)  # let every long-poll reach the server and settle into its wait
        threads_while_waiting = threads_of(pid)
        for call_id in call_ids:
            url = f"{api}/agent/function_calls/{call_id}/respond"
            # Timed from the moment the decision is sent, so the figure includes recording it.
            decided_at[call_id] = time.monotonic()
            requests.post(url, json={"approved": True}, headers=headers, timeout=30).raise_for_status()
        for waiter in waiters:
            waiter.result()

    latencies = sorted((woke_at[call_id] - decided_at[call_id]) * 1000 for call_id in call_ids)
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"| waiting agents | {agents} |")
    print("| --- | --- |")
    p50, p95, p99 = quantiles[49], quantiles[94], quantiles[98]
    print(f"| wake after decision p50 / p95 / p99 | {p50:.1f} / {p95:.1f} / {p99:.1f} ms |")
    print(f"| server threads while all wait | {threads_while_waiting} |")
    print(f"| server peak RSS | {peak_rss_mb(pid):.0f} MB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="50 agents, for a smoke run")
    args = parser.parse_args()
    run(50 if args.quick else args.agents)


if __name__ == "__main__":
    main()
