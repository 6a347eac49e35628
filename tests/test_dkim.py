"""DKIM verification with real signatures (keys made here, served by a stand-in DNS lookup)."""

from __future__ import annotations

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signoff_service.mail_in.authentication import domain_aligned, signature_passes

SELECTOR = b"mail"
DOMAIN = b"example.com"


@pytest.fixture(scope="module")
def key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def signed_reply(private_key: bytes, body: bytes = b"Approved.\r\n") -> bytes:
    message = b"From: ann@example.com\r\nTo: reply+abc@replies.example.com\r\nSubject: Re: x\r\n\r\n" + body
    signature = dkim.sign(
        message, SELECTOR, DOMAIN, private_key, include_headers=[b"from", b"to", b"subject"]
    )
    return signature + message


def dns_with(record: bytes):
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"mail._domainkey.example.com." else None

    return lookup


def test_a_good_signature_by_the_senders_domain_passes(key_pair: tuple[bytes, bytes]) -> None:
    private, record = key_pair
    assert signature_passes(signed_reply(private), "example.com", dnsfunc=dns_with(record))
    assert signature_passes(signed_reply(private), "mail.example.com", dnsfunc=dns_with(record))


def test_altered_unsigned_or_foreign_mail_fails(key_pair: tuple[bytes, bytes]) -> None:
    private, record = key_pair
    tampered = signed_reply(private).replace(b"Approved.", b"Rejected.")
    assert not signature_passes(tampered, "example.com", dnsfunc=dns_with(record))
    assert not signature_passes(
        b"From: ann@example.com\r\n\r\nApproved.\r\n", "example.com", dnsfunc=dns_with(record)
    )
    assert not signature_passes(signed_reply(private), "other.example.net", dnsfunc=dns_with(record))
    assert not signature_passes(signed_reply(private), "example.com", dnsfunc=dns_with(None))


def test_domain_alignment() -> None:
    assert domain_aligned("example.com", "Example.COM")
    assert domain_aligned("example.com", "eu.example.com")
    assert not domain_aligned("example.com", "badexample.com")
    assert not domain_aligned("eu.example.com", "example.com")
