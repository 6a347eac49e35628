"""The benchmarks' smoke forms run and produce every figure they promise (never how fast)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
NEEDS_WRK = "wrk is not installed: `apt-get install wrk` to run the throughput benchmark's smoke test"


def run_quick(script: str, results: Path) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return results.read_text()


def figure(table: str, measure: str) -> str:
    row = re.search(rf"^\| {re.escape(measure)} \| ([^|]+) \|", table, re.MULTILINE)
    assert row is not None, f"no {measure!r} row in:\n{table}"
    return row.group(1).strip()


def test_throughput_reports_each_role_beside_the_bare_route(tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("SIGNOFF_TEST_REQUIRE_WRK"):
            pytest.fail(NEEDS_WRK)
        pytest.skip(NEEDS_WRK)
    table = run_quick("throughput.py", tmp_path / "results.md")
    assert re.search(r"commit \S+ · \d+ cores", table)
    for measure in (
        "bare Flask GET",
        "bare Flask POST",
        "`signoff web` GET status",
        "`signoff serve` POST create",
    ):
        assert re.match(r"[\d,]+ req/s \(p50 [\d.]+ ms, p99 [\d.]+ ms\)$", figure(table, measure))
    for ratio in ("`signoff web` GET ÷ bare GET", "`signoff serve` POST ÷ bare POST"):
        assert re.match(r"[\d.]+\u00d7$", figure(table, ratio))


SPREAD = r"-?[\d.]+ / -?[\d.]+ / -?[\d.]+ ms"


def test_resume_latency_reports_the_sdk_agent_beside_the_poller(tmp_path: Path) -> None:
    table = run_quick("resume_latency.py", tmp_path / "results.md")
    for measure in (
        "SDK agent resumed after the POST's answer p50 / p95 / p99",
        "SDK agent resumed after the POST was sent p50 / p95 / p99",
        "approve POST answered p50 / p95 / p99",
    ):
        assert re.match(rf"{SPREAD}$", figure(table, measure))
    poller = figure(table, "3 s poller resumed after the POST's answer p50 / p95 / p99")
    assert re.match(rf"{SPREAD} \(mean \d+ ms\)$", poller)


def test_waiting_agents_reports_wakes_threads_and_memory(tmp_path: Path) -> None:
    table = run_quick("waiting_agents.py", tmp_path / "results.md")
    assert figure(table, "waiting agents") == "200"
    assert re.match(r"[\d.]+ s \([\d,]+ opened/s\)$", figure(table, "all long-polls open"))
    assert re.match(r"[\d.]+ s \([\d,]+ decisions/s\)$", figure(table, "decision burst"))
    assert re.match(rf"{SPREAD}$", figure(table, "wake after decision sent p50 / p95 / p99"))
    assert re.match(r"\d+$", figure(table, "server threads while all wait"))
    assert re.match(r"\d+ MB$", figure(table, "server peak RSS"))
