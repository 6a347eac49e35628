"""Outbound: emails per second from the outbox into a local SMTP sink.

On a fresh SQLite store, `signoff web` alone takes N approval requests (function calls), so
their emails wait in the outbox. Then `signoff worker` starts, relaying to an aiosmtpd sink
on loopback, and the run is timed until all N emails are at the sink: from the first email
to the last (the steady rate), and from the worker's start (start-up included).

    python bench/outbound.py            # 1,000 emails
    python bench/outbound.py --quick    # 100, a smoke run
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from harness import MailSink, Results, arguments, create_requests, function_call_body, service

RATE_GOAL = 200


@dataclass
class Delivery:
    emails: int
    first_email_seconds: float  # from the worker's start
    all_emails_seconds: float

    @property
    def steady_rate(self) -> float:
        return (self.emails - 1) / (self.all_emails_seconds - self.first_email_seconds)

    @property
    def rate_with_start_up(self) -> float:
        return self.emails / self.all_emails_seconds


def measure(count: int) -> Delivery:
    with MailSink(keep=False) as sink, service(relay_port=sink.port) as running:
        running.start("web")
        key = running.create_key()
        create_requests(
            running, key, "function_calls", [function_call_body(f"call-{n}") for n in range(count)]
        )
        started = time.monotonic()
        running.start("worker", wait_for_http=False)
        sink.wait_for(count)
        return Delivery(count, sink.first_at - started, sink.last_at - started)  # type: ignore[operator]


def main() -> None:
    args = arguments(__doc__.splitlines()[0], emails=1000)
    count = 100 if args.quick else args.emails
    delivery = measure(count)
    results = Results(
        "5. Outbound: emails per second into a local SMTP sink",
        f"{count:,} approval emails queued by `signoff web`, then one `signoff worker` on SQLite "
        "relaying to an aiosmtpd sink on loopback",
    )
    results.add(
        "`signoff worker` first email to last",
        f"{delivery.steady_rate:,.0f} emails/s",
        f"≥ {RATE_GOAL}/s",
        delivery.steady_rate >= RATE_GOAL,
    )
    results.add("`signoff worker` start to last email", f"{delivery.rate_with_start_up:,.0f} emails/s")
    results.add("`signoff worker` start to first email", f"{delivery.first_email_seconds:.2f} s")
    results.publish(args)


if __name__ == "__main__":
    main()
