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
NEEDS_WRK = "wrk is not installed: `apt-get install wrk` to run the benchmarks' smoke tests"


def run_quick(script: str, results: Path, **env: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, completed.stderr
    return results.read_text()


def figure(table: str, measure: str) -> str:
    row = re.search(rf"^\| {re.escape(measure)} \| ([^|]+) \|", table, re.MULTILINE)
    assert row is not None, f"no {measure!r} row in:\n{table}"
    return row.group(1).strip()


RATE = r"[\d,]+ req/s \(p50 [\d.]+ ms, p99 [\d.]+ ms"
RATIO = r"[\d.]+\u00d7"


def needs_wrk() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("SIGNOFF_TEST_REQUIRE_WRK"):
            pytest.fail(NEEDS_WRK)
        pytest.skip(NEEDS_WRK)


def test_throughput_reports_each_role_beside_the_bare_route(tmp_path: Path) -> None:
    needs_wrk()
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


def test_outbound_reports_emails_per_second_into_the_sink(tmp_path: Path, scratch_postgres_url: str) -> None:
    table = run_quick("outbound.py", tmp_path / "results.md", SIGNOFF_BENCH_POSTGRES_URL=scratch_postgres_url)
    for who in ("1 `signoff worker`, SQLite", "2 `signoff worker`, PostgreSQL"):
        for measure in (f"{who}: first email to last", f"{who}: start to last email"):
            assert re.match(r"[\d,]+ emails/s$", figure(table, measure))
        assert re.match(r"[\d.]+ s$", figure(table, f"{who}: start to first email"))


def test_growth_reports_both_stores_at_both_sizes(tmp_path: Path, scratch_postgres_url: str) -> None:
    needs_wrk()
    table = run_quick("growth.py", tmp_path / "results.md", SIGNOFF_BENCH_POSTGRES_URL=scratch_postgres_url)
    for store in ("SQLite", "PostgreSQL"):
        for verb in ("GET status", "POST create"):
            for size in ("1,000", "10,000"):
                assert re.match(RATE, figure(table, f"{store} {verb}, {size} stored"))
            assert re.match(
                rf"{RATIO} \(p50 {RATIO}\)$", figure(table, f"{store} {verb} slowdown, 10,000 ÷ 1,000")
            )
        assert re.match(r"[\d.]+ s$", figure(table, f"{store} seeding 9,000 requests"))
    assert re.match(r"\d+ s$", figure(table, "wall clock, both stores, seeding included"))


CPU_USE = (
    r"web [\d.]+( \+ [\d.]+)?, PostgreSQL [\d.]+, wrk [\d.]+, "
    r"rest of the machine -?[\d.]+, idle [\d.]+ \(of \d+\)$"
)


def test_scale_out_reports_one_and_two_web_processes(tmp_path: Path, scratch_postgres_url: str) -> None:
    needs_wrk()
    table = run_quick(
        "scale_out.py", tmp_path / "results.md", SIGNOFF_BENCH_POSTGRES_URL=scratch_postgres_url
    )
    for verb in ("GET status", "POST create"):
        assert re.match(RATE, figure(table, f"one `signoff web`, {verb}"))
        summed = figure(table, f"two `signoff web`, {verb}, summed")
        assert re.match(r"[\d,]+ req/s \([\d,]+ \+ [\d,]+; p50 [\d.]+ / [\d.]+ ms", summed)
        assert re.match(rf"{RATIO}$", figure(table, f"{verb}, two ÷ one"))
        per_core = figure(table, f"{verb}, req/s per core of web, one → two")
        assert re.match(rf"[\d,]+ → [\d,]+ \({RATIO}\)$", per_core)
        for processes in ("one", "two"):
            assert re.match(CPU_USE, figure(table, f"CPU in cores, {processes} `signoff web`, {verb}"))


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
