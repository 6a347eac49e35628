"""Decision → resume latency: an SDK agent long-polling beside a client that polls every 3 s.

Starts `signoff serve` with its mail going over SMTP to a sink on loopback, so each request
reaches the person as a real email. Then, one decision at a time, an agent built on the
signoff SDK calls a `@hl.require_approval()` function in a thread and blocks; the person
opens the emailed approve link, reads the page's form and posts it; the figure is the time
from the POST's answer (and from sending it) to the agent's function returning.

Beside it in the same run, clients poll a request's status every 3 s without `?wait`, as
HumanLayer's SDK does, each decided the same way after a random pause, several at once.

    python bench/resume_latency.py            # 200 decisions of each kind
    python bench/resume_latency.py --quick    # 20 of each, a smoke run
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests
from harness import (
    MailSink,
    Results,
    Service,
    arguments,
    function_call_body,
    link_after,
    long_poll_waiters,
    quantile,
    service,
    wait_until,
)

from signoff import ContactChannel, EmailContactChannel, HumanLayer

POLL_SECONDS = 3.0
POLLERS_AT_ONCE = 40
P50_GOAL_MS, P99_GOAL_MS = 5, 25


class AddressedSink(MailSink):
    """The mail sink, where each message can be awaited by its recipient."""

    def __init__(self) -> None:
        super().__init__(keep=False)
        self._arrived = threading.Condition()
        self._by_address: dict[str, EmailMessage] = {}

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
        with self._arrived:
            for recipient in envelope.rcpt_tos:  # type: ignore[attr-defined]
                self._by_address[recipient] = message  # type: ignore[assignment]
            self._arrived.notify_all()
        return await super().handle_DATA(server, session, envelope)

    def message_to(self, address: str, timeout: float = 30.0) -> EmailMessage:
        with self._arrived:
            if not self._arrived.wait_for(lambda: address in self._by_address, timeout):
                raise TimeoutError(f"no email to {address} within {timeout:g} s")
            return self._by_address[address]


class FormReader(HTMLParser):
    """The first form of a page: where it posts and the fields it sends as they stand."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self._in_form = True
            self.action = attributes.get("action") or ""
        elif self._in_form and tag == "input" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""  # type: ignore[index]
        elif self._in_form and tag == "textarea" and attributes.get("name"):
            self._textarea = attributes["name"]
            self.fields[self._textarea] = ""  # type: ignore[index]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


@dataclass
class Approval:
    """One approve click, timed: when the form's POST was sent and when its answer arrived."""

    sent_at: float
    answered_at: float


def approve_by_link(http: requests.Session, message: EmailMessage) -> Approval:
    """What the person does: open the emailed approve link, then post the page's form."""
    link = link_after(message, "Approve:")
    page = http.get(link, timeout=10)
    page.raise_for_status()
    form = FormReader()
    form.feed(page.text)
    if form.action is None:
        raise RuntimeError(f"the approve page has no form:\n{page.text}")
    sent_at = time.perf_counter()
    answer = http.post(urljoin(link, form.action), data=form.fields, timeout=10)
    answered_at = time.perf_counter()
    answer.raise_for_status()
    return Approval(sent_at, answered_at)


@dataclass
class Resume:
    """One decision's timings, in ms: agent resumed after the POST's answer, after its sending."""

    after_answer: float
    after_sent: float
    post: float


def sdk_agent_resume(hl: HumanLayer, running: Service, sink: AddressedSink, number: int) -> Resume:
    address = f"agent-{number}@example.com"
    channel = ContactChannel(email=EmailContactChannel(address=address))
    returned_at: list[float] = []

    @hl.require_approval(contact_channel=channel)
    def transfer_funds(amount: int, to: str) -> str:
        return f"moved {amount} to {to}"

    def agent() -> None:
        transfer_funds(100, to="acct-7")
        returned_at.append(time.perf_counter())

    thread = threading.Thread(target=agent, name=f"agent-{number}")
    thread.start()
    with requests.Session() as http:
        message = sink.message_to(address)
        # Decide only once the agent is blocked in its long-poll, as a person reading mail would.
        wait_until(lambda: long_poll_waiters(running.base_url) >= 1, "the agent to long-poll", every=0.005)
        approval = approve_by_link(http, message)
    thread.join(timeout=30)
    if not returned_at:
        raise RuntimeError(f"agent {number} did not resume within 30 s of its approval")
    return Resume(
        (returned_at[0] - approval.answered_at) * 1000,
        (returned_at[0] - approval.sent_at) * 1000,
        (approval.answered_at - approval.sent_at) * 1000,
    )


def poller_resume(running: Service, key: str, sink: AddressedSink, number: int, pause: float) -> float:
    """A request polled every 3 s without `?wait`; ms from the POST's answer to the poll that saw it."""
    address = f"poller-{number}@example.com"
    headers = {"Authorization": f"Bearer {key}"}
    call_id = f"poller-{number}"
    with requests.Session() as agent_http, requests.Session() as person_http:
        created = agent_http.post(
            f"{running.api_url}/function_calls", json=function_call_body(call_id, address), headers=headers
        )
        created.raise_for_status()
        seen_at: list[float] = []
        polling = threading.Thread(
            target=poll_until_decided,
            args=(agent_http, f"{running.api_url}/function_calls/{call_id}", headers, seen_at),
        )
        polling.start()
        message = sink.message_to(address)
        time.sleep(pause)
        approval = approve_by_link(person_http, message)
        polling.join()
    return (seen_at[0] - approval.answered_at) * 1000


def poll_until_decided(
    http: requests.Session, url: str, headers: dict[str, str], seen_at: list[float]
) -> None:
    while True:
        status = http.get(url, headers=headers, timeout=10)
        status.raise_for_status()
        if status.json()["status"]["approved"] is not None:
            seen_at.append(time.perf_counter())
            return
        time.sleep(POLL_SECONDS)


def measure(decisions: int) -> tuple[list[Resume], list[float]]:
    # Pauses spread over one poll interval: the decisions land anywhere between two polls.
    rng = random.Random(15)  # noqa: S311 - when people click, not a secret
    with AddressedSink() as sink, service(relay_port=sink.port) as running:
        running.start("serve")
        key = running.create_key()
        hl = HumanLayer(api_key=key, api_base_url=running.base_url, run_id="bench-resume")
        with ThreadPoolExecutor(POLLERS_AT_ONCE, thread_name_prefix="poller") as pollers:
            polled = [
                pollers.submit(poller_resume, running, key, sink, number, rng.uniform(0, POLL_SECONDS))
                for number in range(decisions)
            ]
            resumes = [sdk_agent_resume(hl, running, sink, number) for number in range(decisions)]
            return resumes, [future.result() for future in polled]


def spread(values: list[float]) -> str:
    p50, p95, p99 = (quantile(values, fraction) for fraction in (0.5, 0.95, 0.99))
    return f"{p50:.1f} / {p95:.1f} / {p99:.1f} ms"


def main() -> None:
    args = arguments(__doc__.splitlines()[0], decisions=200)
    decisions = 20 if args.quick else args.decisions
    resumes, polled = measure(decisions)
    after_answer = [resume.after_answer for resume in resumes]
    p50, p99 = quantile(after_answer, 0.5), quantile(after_answer, 0.99)
    results = Results(
        "1. Decision → resume latency: an SDK agent's long-poll beside a 3 s poller",
        f"`signoff serve`, SQLite, mail over SMTP to a sink on loopback; {decisions} decisions, one "
        "at a time, each made by opening the emailed approve link and posting its form while an "
        "SDK agent waits in `@hl.require_approval()` (long-poll); in the same run, "
        f"{decisions} requests polled every {POLL_SECONDS:g} s without `?wait` (plain `requests`, "
        f"as HumanLayer's SDK polls), {min(POLLERS_AT_ONCE, decisions)} at once, each approved the "
        f"same way after a random 0–{POLL_SECONDS:g} s pause",
    )
    results.add(
        "SDK agent resumed after the POST's answer p50 / p95 / p99",
        spread(after_answer),
        f"p50 ≤ {P50_GOAL_MS} ms, p99 ≤ {P99_GOAL_MS} ms",
        p50 <= P50_GOAL_MS and p99 <= P99_GOAL_MS,
    )
    results.add(
        "SDK agent resumed after the POST was sent p50 / p95 / p99", spread([r.after_sent for r in resumes])
    )
    results.add("approve POST answered p50 / p95 / p99", spread([resume.post for resume in resumes]))
    results.add(
        f"{POLL_SECONDS:g} s poller resumed after the POST's answer p50 / p95 / p99",
        f"{spread(polled)} (mean {statistics.fmean(polled):.0f} ms)",
    )
    if min(after_answer) < 0:
        results.notes.append(
            "a negative figure is an agent that resumed before the person's browser had the answer page"
        )
    results.publish(args)


if __name__ == "__main__":
    main()
