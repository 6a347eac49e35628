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
NEEDS_POSTGRES = (
    "PostgreSQL is not reachable: start one (or set SIGNOFF_TEST_POSTGRES_URL) for the outbound "
    "benchmark's two-worker figures; the one-worker figures were checked"
)
NEEDS_WRK = "wrk is not installed: `apt-get install wrk` to run the throughput benchmark's smoke test"


def run_quick(script: str, results: Path, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--results", str(results)],
        env={**os.environ, **(env or {})},
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


def test_inbound_reports_replies_per_second_beside_the_bare_sink(tmp_path: Path) -> None:
    table = run_quick("inbound.py", tmp_path / "results.md")
    assert re.match(r"[\d,]+ messages/s$", figure(table, "bare aiosmtpd Sink"))
    for measure in (
        "`signoff smtpd` replies taken (SMTP 250)",
        "`signoff smtpd` replies to recorded answers",
    ):
        assert re.match(r"[\d,]+ replies/s$", figure(table, measure))
    assert re.match(r"[\d.]+\u00d7$", figure(table, "`signoff smtpd` ÷ bare sink"))


def test_outbound_reports_emails_per_second_into_the_sink(tmp_path: Path) -> None:
    postgres_url = os.environ.get("SIGNOFF_TEST_POSTGRES_URL")
    env = {"SIGNOFF_BENCH_POSTGRES_URL": postgres_url} if postgres_url else {}
    table = run_quick("outbound.py", tmp_path / "results.md", env)
    postgres_missing = "PostgreSQL not reachable" in table
    if postgres_missing and os.environ.get("SIGNOFF_TEST_REQUIRE_POSTGRES") == "1":
        pytest.fail(NEEDS_POSTGRES)
    workers = ["1 `signoff worker`, SQLite"] + (
        [] if postgres_missing else ["2 `signoff worker`, PostgreSQL"]
    )
    for who in workers:
        for measure in (f"{who}: first email to last", f"{who}: start to last email"):
            assert re.match(r"[\d,]+ emails/s$", figure(table, measure))
        assert re.match(r"[\d.]+ s$", figure(table, f"{who}: start to first email"))
    if postgres_missing:
        pytest.skip(NEEDS_POSTGRES)
