"""Hostile mail over real SMTP: every message ends refused by the server or recorded with an outcome.

Hypothesis builds broken MIME (odd charsets and transfer encodings, invalid bytes, huge and
repeated headers, bad or missing boundaries, deep nesting, long lines, encoded-words gone
wrong) addressed to a real pending request or to reply addresses that belong to nobody, and
sends it to `signoff serve`. Whatever arrives must end as a refusal code in the SMTP dialogue
or as an `inbound_messages` row that is accepted or rejected with a known reason; the
service stays up, and only the request's recipient can ever answer it.
"""

from __future__ import annotations

import re
import smtplib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DbSession

from signoff import HumanContactSpec
from signoff_service.metrics import rejection_reasons
from signoff_service.store.db import normalize_database_url
from signoff_service.store.models import InboundMessage

from signoff_testing import (
    REPLY_DOMAIN,
    MailSink,
    RunningService,
    agent_layer,
    unique_address,
    wait_until,
)

CASES_PER_STORE = 175
# Low, so that "too many headers" is reached without megabytes of them.
FUZZ_MAX_HEADERS = 60
QUEUED = re.compile(rb"queued as (\d+)")
CRLF = b"\r\n"

CHARSETS = [
    "utf-8", "us-ascii", "iso-8859-1", "utf-16", "utf-7", "x-unknown", "", "base64", "utf-8\"",
    "iso-2022-jp", "gb2312", "koi8-r", "windows-1252", "cp65001", "unicode-1-1-utf-7", "a" * 300,
]  # fmt: skip
ENCODINGS = [
    "7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "uuencode", "BASE64 ",
    "gzip", "", "quoted-printable; x=y",
]  # fmt: skip
CONTENT_TYPES = [
    "text/plain", "text/html", "text/enriched", "multipart/mixed", "multipart/alternative",
    "multipart/related", "multipart/report", "message/rfc822", "message/delivery-status",
    "application/octet-stream", "text/", "/", ";", "text/plain/extra", "image/png",
]  # fmt: skip
ENCODED_WORDS = [
    "=?utf-8?b?QXBwcm92ZQ==?=", "=?utf-8?b?!!!?=", "=?utf-8?q?=ZZ=?=", "=?x-unknown?q?abc?=",
    "=?utf-8?x?abc?=", "=?=?=?", "=?utf-8?b?", "=?iso-8859-1?q?caf=E9?= =?utf-8?b?w6k=?=",
    "=?utf-8*en?q?hi?=", "=?utf-16?b?//4A?=", "=?utf-8?b?" + "A" * 500 + "?=",
]  # fmt: skip
PARAMETER_TAILS = [
    "", "; charset=", "; charset*=''%ff%fe", "; charset*=utf-8'en'%E2%82", "; name*0*=x; name*2=y",
    "; boundary=", "; boundary=\"\"", "; boundary=\"unterminated", "; format=flowed; delsp=yes",
    "; ;;; =;", "; a=" + "b" * 900, "; report-type=\x00", "; name=\"a\x00b.pdf\"",
    "; charset=\"utf-8\"; charset=ascii",
]  # fmt: skip


@dataclass
class Target:
    """The pending request the fuzz writes to, replaced once an answer decides it."""

    recipient: str
    reply_to: str
    message_id: str


@dataclass
class Case:
    envelope_from: str
    recipients: list[str]
    raw: bytes
    # False when nothing in the message can make it the request's answer.
    may_answer: bool


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


# --- What a hostile message is made of -------------------------------------------------------

text_bytes = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"approve", b"reject: too risky", b"\xff\xfe\x00\x00", b"\x00" * 20, b"=\r\n=4"]),
    # One long line: up to SMTP's limit of 998, now and then past it.
    st.sampled_from([900, 997, 998, 5000]).map(lambda size: b"x" * size),
    st.integers(1, 3000).map(lambda count: b"line\n" * count),
)
header_value = st.one_of(
    st.sampled_from(ENCODED_WORDS).map(str.encode),
    st.binary(max_size=80).map(lambda data: data.replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from([980, 4000]).map(lambda size: b"v" * size),  # one huge header line
    st.integers(1, 300).map(lambda count: CRLF.join([b"folded"] * count)),
)


@st.composite
def content_type(draw: st.DrawFn, boundary: str | None) -> bytes:
    kind = draw(st.sampled_from(CONTENT_TYPES))
    tail = draw(st.sampled_from(PARAMETER_TAILS))
    charset = draw(st.none() | st.sampled_from(CHARSETS))
    value = kind + (f"; charset={charset}" if charset is not None else "") + tail
    if boundary is not None:
        value += f'; boundary="{boundary}"'
    return b"Content-Type: " + value.encode("utf-8", "surrogatepass")


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A body part: a leaf, or a multipart whose boundaries may be wrong or missing."""
    headers = []
    if draw(st.booleans()):
        encoding = draw(st.sampled_from(ENCODINGS))
        headers.append(f"Content-Transfer-Encoding: {encoding}".encode())
    if depth < 3 and draw(st.integers(0, 3)) == 0:
        boundary = draw(st.sampled_from(["b1", "", " spaced out ", "=_x", "-" * 80, "b1"]))
        children = draw(st.lists(mime_part(depth + 1), max_size=3))
        closing = draw(st.sampled_from([b"--", b"", b"-- trailing"]))
        wrong = draw(st.sampled_from([boundary, boundary + "x", "other"])).encode()
        body = b"".join(b"--" + wrong + CRLF + child + CRLF for child in children)
        body += b"--" + boundary.encode() + closing + CRLF
        headers.append(b'Content-Type: multipart/mixed; boundary="' + boundary.encode() + b'"')
    else:
        headers.append(draw(content_type(None)))
        body = draw(text_bytes)
    return CRLF.join(headers) + CRLF + CRLF + body


def deeply_nested(depth: int, leaf: bytes) -> bytes:
    """`depth` multiparts inside one another, each with a boundary of its own."""
    part = b"Content-Type: text/plain\r\n\r\n" + leaf
    for level in range(depth):
        boundary = f"n{level}".encode()
        part = (
            b"Content-Type: multipart/mixed; boundary=" + boundary + CRLF + CRLF
            + b"--" + boundary + CRLF + part + CRLF + b"--" + boundary + b"--" + CRLF
        )  # fmt: skip
    return part


@st.composite
def from_header(draw: st.DrawFn, recipient: str) -> tuple[bytes | None, bool]:
    """The From header, and whether it names the request's recipient."""
    kind = draw(st.sampled_from(["recipient"] * 4 + ["named", "stranger", "two", "garbage", "missing"]))
    if kind == "recipient":
        return recipient.upper().encode(), True
    if kind == "named":
        return f"{draw(st.sampled_from(ENCODED_WORDS))} <{recipient}>".encode(), True
    if kind == "stranger":
        return unique_address("mallory").encode(), False
    if kind == "two":
        return f"{recipient}, {unique_address('mallory')}".encode(), False
    if kind == "garbage":
        return draw(header_value), False
    return None, False


@st.composite
def hostile_case(draw: st.DrawFn, target: Target) -> Case:
    where = draw(st.sampled_from(["real"] * 4 + ["both", "bogus", "thread", "unknown-local", "elsewhere"]))
    bogus = f"reply+{draw(st.text('0123456789abcdefXYZ', min_size=1, max_size=40))}@{REPLY_DOMAIN}"
    recipients = {
        "real": [target.reply_to],
        "both": [bogus, target.reply_to],
        "bogus": [bogus],
        "thread": [bogus],
        "elsewhere": ["someone@elsewhere.example.net"],
        "unknown-local": [f"postmaster@{REPLY_DOMAIN}"],
    }[where]
    from_value, names_recipient = draw(from_header(target.recipient))
    headers = [b"From: " + from_value] if from_value is not None else []
    headers += [b"To: " + recipients[0].encode(), b"Subject: " + draw(header_value)]
    if where == "thread":
        headers.append(f"In-Reply-To: {target.message_id}".encode())
    headers += [
        draw(
            st.sampled_from(
                [b"X-Filler", b"Received", b"Content-Type", b"Subject", b"Message-ID", b"References"]
            )
        )
        + b": "
        + draw(header_value)
        for _ in range(draw(st.integers(0, 3)))
    ]
    repeated = draw(st.sampled_from([0, 0, 5, FUZZ_MAX_HEADERS, FUZZ_MAX_HEADERS * 3]))
    headers += [b"X-Repeated: %d" % number for number in range(repeated)]
    headers.append(b"MIME-Version: " + draw(st.sampled_from([b"1.0", b"2.0", b"", b"\xff"])))
    if draw(st.integers(0, 9)) == 0:
        depth = draw(st.sampled_from([10, 60, 200, 1000]))
        body = deeply_nested(depth, draw(text_bytes))
    else:
        body = draw(mime_part())
    raw = CRLF.join(headers) + CRLF + body
    too_long = "x" * 60 + "@" + "y" * 300 + ".com"
    others = ["", unique_address("bounce"), too_long, "ünï@exämple.com"]
    envelope_from = draw(st.sampled_from([target.recipient] * 6 + others))
    may_answer = where in ("real", "both", "thread") and names_recipient
    return Case(envelope_from, recipients, raw, may_answer)


# --- Sending and checking ----------------------------------------------------------------------


def send_case(service: RunningService, case: Case) -> tuple[int, bytes]:
    """The first refusal in the SMTP dialogue, or DATA's answer."""
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=30) as client:
        client.ehlo("fuzz.example.org")
        utf8 = [] if case.envelope_from.isascii() else ["SMTPUTF8"]
        code, text = client.mail(case.envelope_from, utf8)
        if code >= 300:
            return code, text
        for recipient in case.recipients:
            code, text = client.rcpt(recipient)
            if code >= 300:
                return code, text
        try:
            return client.data(case.raw)
        except smtplib.SMTPDataError as refused:
            return refused.smtp_code, refused.smtp_error


def outcome_of(engine: Engine, inbound_id: int) -> InboundMessage:
    def processed() -> InboundMessage | None:
        with DbSession(engine) as session:
            row = session.scalar(select(InboundMessage).where(InboundMessage.id == inbound_id))
        return row if row is not None and row.status != "received" else None

    return wait_until(processed, timeout=10, what=f"inbound message {inbound_id} to be processed")  # type: ignore[return-value]


def new_target(service: RunningService, key: str, sink: MailSink) -> Target:
    recipient = unique_address("fuzzed")
    agent_layer(service, key, recipient).create_human_contact(HumanContactSpec(msg="Anything to add?"))
    question = sink.wait_for_mail_to(recipient)
    return Target(recipient, str(question["Reply-To"]), str(question["Message-ID"]))


@pytest.fixture
def fuzz_service(private_database_url: str, mail_sink: MailSink, tmp_path: Path) -> Iterator[RunningService]:
    running = RunningService.configure(private_database_url, mail_sink, tmp_path)
    running.env.update(
        SIGNOFF_MAX_MESSAGE_HEADERS=str(FUZZ_MAX_HEADERS),
        # The fuzz sends hundreds of messages from one address; the limit has tests of its own.
        SIGNOFF_INBOUND_MESSAGES_PER_HOUR="0",
        SIGNOFF_LOG_LEVEL="info",
    )
    running.start()
    yield running
    running.stop()


def test_hostile_mail_always_ends_refused_or_recorded(
    fuzz_service: RunningService, mail_sink: MailSink, report_cases: Callable[[str], None]
) -> None:
    key = fuzz_service.write_key("fuzz")
    known_reasons = rejection_reasons()
    engine = create_engine(normalize_database_url(fuzz_service.database_url))
    tally = Tally()
    state = {"target": new_target(fuzz_service, key, mail_sink)}

    @settings(
        max_examples=CASES_PER_STORE,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(data=st.data())
    def one_case(data: st.DataObject) -> None:
        target = state["target"]
        case = data.draw(hostile_case(target))
        code, text = send_case(fuzz_service, case)
        assert fuzz_service.process is not None and fuzz_service.process.poll() is None, "the service died"
        queued = QUEUED.search(text)
        if code != 250 or queued is None:
            # Refused for good: bad input is never worth a retry (a 4xx would bring it back forever).
            assert 500 <= code < 600, (code, text)
            tally.outcomes[f"smtp {code}"] += 1
            return
        row = outcome_of(engine, int(queued.group(1)))
        assert row.status in ("accepted", "rejected"), (row.status, row.reason, row.detail)
        if row.status == "rejected":
            assert row.reason in known_reasons, (row.reason, row.detail)
        else:
            assert case.may_answer, f"answered by a message that cannot be an answer: {case.raw[:300]!r}"
            state["target"] = new_target(fuzz_service, key, mail_sink)
        tally.outcomes[row.reason or row.status] += 1

    try:
        one_case()
    finally:
        engine.dispose()
        report_cases(f"inbound fuzz: {tally.total} cases, {dict(sorted(tally.outcomes.items()))}")
    log = fuzz_service.log_path.read_text(errors="replace")
    assert "processing failed" not in log and "Traceback" not in log, log[-4000:]
    assert tally.total >= CASES_PER_STORE
