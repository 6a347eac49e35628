"""Replies the fuzz found to break reading (test_inbound_fuzz.py), one case each, kept as fixed cases.

Each used to leave its message stuck unprocessed with a traceback in the log (or, on
PostgreSQL, to be answered 451 forever); now each ends with a recorded outcome or a refusal.
"""

from __future__ import annotations

import smtplib

import pytest

from signoff import HumanContactSpec

from signoff_testing import WAIT_SECONDS, MailSink, RunningService, agent_layer, unique_address

NESTED_A_THOUSAND_DEEP = b"".join(
    b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (level, level) for level in range(1000)
)

CASES = {
    # The stdlib parser recurses once per level.
    "nested-a-thousand-deep": (
        NESTED_A_THOUSAND_DEEP + b"Content-Type: text/plain\r\n\r\nVendor B.\r\n",
        ("rejected", "unparseable"),
    ),
    # The stdlib header parser raises IndexError on this From.
    "from-the-parser-cannot-read": (
        b"Subject: hi\r\nContent-Type: text/plain\r\n\r\nVendor B.\r\n",
        ("rejected", "unparseable"),
    ),
    # get_body() looks into a multipart/related that has no boundary as if it held parts.
    "related-part-without-boundary": (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: multipart/related\r\n\r\nVendor B.\r\n--b--\r\n",
        ("rejected", "unparseable"),
    ),
    # The reason's detail quotes the parameter; PostgreSQL's text cannot hold a NUL.
    "nul-in-a-quoted-parameter": (
        b"Content-Type: multipart/report; report-type=\x00x\r\n\r\n",
        ("rejected", "bounce"),
    ),
    "nul-in-the-answer": (b"Content-Type: text/plain\r\n\r\nVendor\x00 B.\r\n", ("accepted", None)),
}


def send_raw(service: RunningService, mail_from: str, to: str, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.sendmail(mail_from, [to], raw)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_reply_that_broke_reading_now_ends_with_an_outcome(
    service: RunningService, mail_sink: MailSink, project_key: str, case: str
) -> None:
    address = unique_address(case)
    layer = agent_layer(service, project_key, address)
    contact = layer.create_human_contact(HumanContactSpec(msg="Which vendor?"))
    reply_to = str(mail_sink.wait_for_mail_to(address)["Reply-To"])
    body, (status, reason) = CASES[case]
    sender = b"=?utf-8?b?!!!?=" if case == "from-the-parser-cannot-read" else address.encode()
    send_raw(service, address, reply_to, b"From: " + sender + f"\r\nTo: {reply_to}\r\n".encode() + body)
    [row] = service.processed_inbound_to(reply_to)
    assert (row.status, row.reason) == (status, reason), row.detail
    if status == "accepted":
        answered = layer.client.wait_for_human_contact(contact.call_id, timeout=WAIT_SECONDS)
        assert answered.status.response == "Vendor B."
    else:
        assert "\x00" not in row.detail and body.strip() in row.raw


def test_a_sender_address_too_long_to_store_is_refused_for_good(service: RunningService) -> None:
    too_long = "x" * 60 + "@" + "y" * 300 + ".example.com"
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.ehlo()
        code, text = client.mail(too_long)
    # Permanent: a 4xx here (the store refusing the row) made sending servers retry it for days.
    assert code == 553, text
