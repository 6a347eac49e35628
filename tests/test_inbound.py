"""Inbound SMTP: what the server accepts, and the recorded outcome of mail that is no answer."""

from __future__ import annotations

import smtplib

import pytest

from signoff_testing import REPLY_DOMAIN, RunningService, send_email, unique_address


def test_mail_for_other_domains_is_refused_at_rcpt(service: RunningService) -> None:
    with smtplib.SMTP("127.0.0.1", service.smtp_port, timeout=10) as client:
        client.ehlo()
        client.mail("someone@example.com")
        code, text = client.rcpt("victim@elsewhere.example.net")
    assert code == 550 and REPLY_DOMAIN.encode() in text


def test_mail_for_no_known_request_is_kept_with_its_reason(service: RunningService) -> None:
    address = f"reply+0123456789abcdef@{REPLY_DOMAIN}"
    send_email(service.smtp_port, mail_from=unique_address("lost"), to=address, body="approve")
    [row] = service.processed_inbound_to(address)
    assert (row.status, row.reason) == ("rejected", "no_matching_request")
    assert b"approve" in row.raw


def test_an_oversized_message_is_refused_with_552(service: RunningService) -> None:
    limit = 10 * 1024 * 1024
    with pytest.raises(smtplib.SMTPException) as refused:
        send_email(
            service.smtp_port,
            mail_from=unique_address("big"),
            to=f"reply+feedface@{REPLY_DOMAIN}",
            body="x" * 70 + ("\n" + "y" * 70) * (limit // 71 + 10),
        )
    assert "552" in str(refused.value)
