"""Outbound: emails per second from the outbox into a local SMTP sink.

On a fresh store, `signoff web` alone takes N approval requests (function calls), so their
emails wait in the outbox. Then the workers start, relaying to an aiosmtpd sink on loopback,
and the run is timed until all N emails are at the sink: from the first email to the last
(the steady rate), and from the workers' start (start-up included). One `signoff worker` on
SQLite; then two side by side on PostgreSQL (SIGNOFF_BENCH_POSTGRES_URL, default the local
server's `test` database, beside which a fresh one is made), skipped when it is not there.

    python bench/outbound.py            # 700 emails
    python bench/outbound.py --quick    # 100, a smoke run
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from harness import (
    POSTGRES_URL,
    MailSink,
    Results,
    arguments,
    create_requests,
    fresh_postgres_database,
    function_call_body,
    postgres_reachable,
    service,
)

RATE_GOAL = 200


@dataclass
class Delivery:
    emails: int
    first_email_seconds: float  # from the workers' start
    all_emails_seconds: float

    @property
    def steady_rate(self) -> float:
        return (self.emails - 1) / (self.all_emails_seconds - self.first_email_seconds)

    @property
    def rate_with_start_up(self) -> float:
        return self.emails / self.all_emails_seconds


def measure(count: int, workers: int = 1, database_url: str | None = None) -> Delivery:
    with MailSink(keep=False) as sink, service(database_url, relay_port=sink.port) as running:
        running.start("web")
        key = running.create_key()
        create_requests(
            running, key, "function_calls", [function_call_body(f"call-{n}") for n in range(count)]
        )
        started = time.monotonic()
        for _ in range(workers):
            running.start("worker", wait_for_http=False)
        sink.wait_for(count)
        return Delivery(count, sink.first_at - started, sink.last_at - started)  # type: ignore[operator]


def add_figures(results: Results, who: str, delivery: Delivery) -> None:
    rate = delivery.steady_rate
    results.add(f"{who}: first email to last", f"{rate:,.0f} emails/s", f"≥ {RATE_GOAL}/s", rate >= RATE_GOAL)
    results.add(f"{who}: start to last email", f"{delivery.rate_with_start_up:,.0f} emails/s")
    results.add(f"{who}: start to first email", f"{delivery.first_email_seconds:.2f} s")


def main() -> None:
    args = arguments(__doc__.splitlines()[0], emails=700)
    count = 100 if args.quick else args.emails
    results = Results(
        "5. Outbound: emails per second into a local SMTP sink",
        f"{count:,} approval emails queued by `signoff web`, then delivered by the workers "
        "to an aiosmtpd sink on loopback",
    )
    add_figures(results, "1 `signoff worker`, SQLite", measure(count))
    if postgres_reachable():
        with fresh_postgres_database("signoff_bench_outbound") as url:
            add_figures(
                results, "2 `signoff worker`, PostgreSQL", measure(count, workers=2, database_url=url)
            )
    else:
        results.notes.append(f"PostgreSQL not reachable at {POSTGRES_URL}: no two-worker figures")
    results.publish(args)


if __name__ == "__main__":
    main()
