"""All seven benchmarks, one after another, each appending its table to bench/RESULTS.md.

    python bench/all.py            # the full runs (under 10 minutes on 2 cores)
    python bench/all.py --quick    # every smoke run, nothing appended

Each benchmark runs in a process of its own, so one that fails does not hide the others'
figures; the command fails if any did.
"""

from __future__ import annotations

import subprocess
import sys
import time

from harness import BENCH_DIR, Results, arguments

TOTAL_GOAL_SECONDS = 600
BENCHMARKS = [
    "resume_latency.py",
    "throughput.py",
    "waiting_agents.py",
    "inbound.py",
    "outbound.py",
    "growth.py",
    "scale_out.py",
]


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    passed_on = ["--quick"] if args.quick else []
    if args.results:
        passed_on += ["--results", str(args.results)]
    started = time.monotonic()
    timings = []
    failed = []
    for script in BENCHMARKS:
        began = time.monotonic()
        completed = subprocess.run([sys.executable, str(BENCH_DIR / script), *passed_on], check=False)
        timings.append((script, time.monotonic() - began))
        if completed.returncode != 0:
            failed.append(script)
    results = Results(
        "All seven benchmarks: wall clock",
        "each one's default run, one after another" + (" (--quick)" if args.quick else ""),
    )
    for script, seconds in timings:
        results.add(f"`{script}`", f"{seconds:.0f} s")
    total = time.monotonic() - started
    goal = f"< {TOTAL_GOAL_SECONDS // 60} min"
    results.add("all seven", f"{total:.0f} s", goal, total < TOTAL_GOAL_SECONDS)
    results.publish(args)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
