"""Requests per second: a status read and a create, against a bare Flask route served alike.

Starts `signoff web`, then `signoff serve` (each on a fresh SQLite store), and the bare app
of bench/bare_app.py under the same uvicorn and a2wsgi setup, and drives each with wrk
(Debian's package) in the same run:

- GET  /humanlayer/v1/function_calls/<id>   beside GET /bare/<id>
- POST /humanlayer/v1/function_calls        beside POST /bare (same body)

    python bench/throughput.py              # 8 s per measurement
    python bench/throughput.py --quick      # 1 s each, a smoke run
"""

from __future__ import annotations

import subprocess
import sys

import requests
from harness import (
    BENCH_DIR,
    Load,
    Results,
    Service,
    answers,
    arguments,
    describe,
    free_port,
    function_call_body,
    function_call_template,
    run_wrk,
    service,
    wait_until,
)

GET_GOAL, POST_GOAL = 0.6, 0.3


def measure_signoff(role: str, seconds: float, connections: int) -> tuple[Load, Load]:
    with service() as running:
        running.start(role)
        return measure_api(running, seconds, connections)


def measure_api(running: Service, seconds: float, connections: int) -> tuple[Load, Load]:
    """GET status and POST create throughput of a running service."""
    key = running.create_key()
    headers = {"Authorization": f"Bearer {key}"}
    created = requests.post(
        f"{running.api_url}/function_calls", json=function_call_body("read-me"), headers=headers, timeout=10
    )
    created.raise_for_status()
    get = run_wrk(f"{running.api_url}/function_calls/read-me", seconds, connections, headers)
    post = run_wrk(
        f"{running.api_url}/function_calls", seconds, connections, headers, function_call_template()
    )
    return get, post


def measure_bare(seconds: float, connections: int) -> tuple[Load, Load]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(BENCH_DIR / "bare_app.py"), str(port)])
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{base}/healthz"), "the bare app to answer")
        get = run_wrk(f"{base}/bare/read-me", seconds, connections)
        post = run_wrk(f"{base}/bare", seconds, connections, post_body_template=function_call_template())
        return get, post
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    args = arguments(__doc__.splitlines()[0], seconds=8, connections=8)
    seconds = 1 if args.quick else args.seconds
    bare_get, bare_post = measure_bare(seconds, args.connections)
    results = Results(
        "2. Throughput: status reads and creates beside a bare Flask route",
        f"wrk, 1 thread, {args.connections} connections, {seconds} s each; SQLite; uvicorn + a2wsgi",
    )
    results.add("bare Flask GET", describe(bare_get))
    results.add("bare Flask POST", describe(bare_post))
    for role in ("web", "serve"):
        get, post = measure_signoff(role, seconds, args.connections)
        get_ratio = get.requests_per_second / bare_get.requests_per_second
        post_ratio = post.requests_per_second / bare_post.requests_per_second
        results.add(f"`signoff {role}` GET status", describe(get))
        results.add(
            f"`signoff {role}` GET ÷ bare GET", f"{get_ratio:.2f}×", f"≥ {GET_GOAL}×", get_ratio >= GET_GOAL
        )
        results.add(f"`signoff {role}` POST create", describe(post))
        results.add(
            f"`signoff {role}` POST ÷ bare POST",
            f"{post_ratio:.2f}×",
            f"≥ {POST_GOAL}×",
            post_ratio >= POST_GOAL,
        )
        if get.errors or post.errors:
            results.notes.append(f"`signoff {role}` answered some requests with an error; see its log")
    results.publish(args)


if __name__ == "__main__":
    main()
