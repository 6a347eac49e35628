"""Inbound: replies per second through SMTP to recorded answers, beside a bare aiosmtpd sink.

On a fresh SQLite store, `signoff web` takes N questions (contact requests) to a few approvers
and `signoff worker` emails them to a local sink; the worker is then stopped, so that only
`signoff smtpd` works while the replies come in. Each reply is written as a mail client
writes one (From the approver, To the email's Reply-To, In-Reply-To and References its
Message-ID, the answer above the quoted original) and carries the Authentication-Results
a trusted inbound relay adds, because the service runs with `require_dkim` and that relay's
verdict (the deployment behind an MX; checking signatures here would need DNS). The replies
go over loopback SMTP, several connections at once and several messages per connection,
timed from the first send to the last answer recorded (the latest `responded_at` the API
reports; every answer is checked to be the reply's text). The same messages then go the
same way to aiosmtpd's own server with its do-nothing Sink handler.

    python bench/inbound.py            # 500 replies
    python bench/inbound.py --quick    # 100, a smoke run
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import requests
from harness import (
    MailSink,
    Outgoing,
    Results,
    Service,
    arguments,
    bare_smtp_sink,
    contact_request_body,
    create_requests,
    send_over_smtp,
    service,
    smtp_answers,
    text_part,
    wait_until,
)

RATE_GOAL, RATIO_GOAL = 200, 0.3
TRUSTED_RELAY = "mx.bench.example.com"
APPROVERS = [f"approver{n}@example.com" for n in range(4)]


def question(call_id: str) -> str:
    return f"Which day should release {call_id} ship?"


def answer(call_id: str) -> str:
    return f"Ship {call_id} on Tuesday, after the freeze."


def call_id_of(message: EmailMessage) -> str:
    return str(message["Subject"]).removeprefix("Question: Which day should release ").removesuffix(" ship?")


def reply_to(original: EmailMessage) -> Outgoing:
    """The approver's reply to `original`, as their mail client and their provider's MX send it."""
    approver = str(original["To"])
    reply = EmailMessage()
    reply["Authentication-Results"] = (
        f"{TRUSTED_RELAY}; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com"
    )
    reply["From"] = approver
    reply["To"] = str(original["Reply-To"])
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Date"] = format_datetime(datetime.now().astimezone())
    reply["Message-ID"] = make_msgid(domain="example.com")
    reply["In-Reply-To"] = str(original["Message-ID"])
    reply["References"] = str(original["Message-ID"])
    quoted = "\n".join(f"> {line}" for line in text_part(original).splitlines())
    reply.set_content(
        f"{answer(call_id_of(original))}\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n"
    )
    return Outgoing(approver, str(original["Reply-To"]), reply.as_bytes(policy=policy.SMTP))


def ask_and_collect(running: Service, sink: MailSink, count: int) -> tuple[str, list[str], list[Outgoing]]:
    """N questions asked and emailed; the API key, the call_ids and a reply to each email, alike ordered."""
    running.start("web")
    worker = running.start("worker", wait_for_http=False)
    key = running.create_key()
    bodies = [
        contact_request_body(f"q{n}", APPROVERS[n % len(APPROVERS)], question(f"q{n}")) for n in range(count)
    ]
    create_requests(running, key, "contact_requests", bodies)
    sink.wait_for(count)
    running.stop(worker)
    return key, [call_id_of(message) for message in sink.messages], [reply_to(m) for m in sink.messages]


def timed(send: Callable[[], None]) -> tuple[float, float]:
    """Wall-clock time when `send` started, and when it returned."""
    started = time.time()
    send()
    return started, time.time()


def answered_at(running: Service, key: str, call_ids: list[str]) -> float:
    """The latest time an answer was recorded, once each request has the answer its reply gave."""

    def recorded(call_id: str) -> float:
        status = requests.get(
            f"{running.api_url}/contact_requests/{call_id}",
            params={"wait": 30},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        ).json()["status"]
        if status["response"] != answer(call_id):
            raise RuntimeError(f"{call_id}: recorded {status['response']!r}, not the reply's answer")
        return datetime.fromisoformat(status["responded_at"]).timestamp()

    with ThreadPoolExecutor(2) as pool:
        return max(pool.map(recorded, call_ids))


@dataclass
class Inbound:
    replies: list[Outgoing]
    accepted_per_second: float  # first send to the last SMTP 250
    answered_per_second: float  # first send to the last answer recorded


def measure_signoff(count: int, connections: int, per_connection: int) -> Inbound:
    with (
        MailSink() as sink,
        service(
            relay_port=sink.port, SIGNOFF_REQUIRE_DKIM="true", SIGNOFF_TRUSTED_AUTHSERV_ID=TRUSTED_RELAY
        ) as running,
    ):
        key, call_ids, replies = ask_and_collect(running, sink, count)
        running.start("smtpd", wait_for_http=False)
        wait_until(lambda: smtp_answers(running.smtp_port), "signoff smtpd to greet")
        started, sent = timed(lambda: send_over_smtp(running.smtp_port, replies, connections, per_connection))
        answered = answered_at(running, key, call_ids)
        return Inbound(replies, count / (sent - started), count / (answered - started))


def measure_bare(replies: list[Outgoing], connections: int, per_connection: int) -> float:
    with bare_smtp_sink() as port:
        started, finished = timed(lambda: send_over_smtp(port, replies, connections, per_connection))
    return len(replies) / (finished - started)


def main() -> None:
    args = arguments(__doc__.splitlines()[0], replies=500, connections=4, per_connection=25)
    count = 100 if args.quick else args.replies
    signoff = measure_signoff(count, args.connections, args.per_connection)
    bare_rate = measure_bare(signoff.replies, args.connections, args.per_connection)
    signoff_rate = signoff.answered_per_second
    ratio = signoff_rate / bare_rate
    results = Results(
        "4. Inbound: replies per second through SMTP to recorded answers, beside a bare aiosmtpd sink",
        f"{count:,} replies to questions, {args.connections} SMTP connections at once, "
        f"{args.per_connection} messages each; `signoff smtpd` alone (web idle, worker stopped) on SQLite, "
        f"`require_dkim` with a trusted relay's Authentication-Results",
    )
    results.add("bare aiosmtpd Sink", f"{bare_rate:,.0f} messages/s")
    results.add("`signoff smtpd` replies taken (SMTP 250)", f"{signoff.accepted_per_second:,.0f} replies/s")
    results.add(
        "`signoff smtpd` replies to recorded answers",
        f"{signoff_rate:,.0f} replies/s",
        f"≥ {RATE_GOAL}/s",
        signoff_rate >= RATE_GOAL,
    )
    results.add("`signoff smtpd` ÷ bare sink", f"{ratio:.2f}×", f"≥ {RATIO_GOAL}×", ratio >= RATIO_GOAL)
    results.publish(args)


if __name__ == "__main__":
    main()
