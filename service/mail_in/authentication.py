"""Did the sender's domain sign this email? (DKIM, for `require_dkim`.)

Either a relay we trust has checked and says so in its `Authentication-Results` header
(RFC 8601), or we verify the signatures ourselves with dkimpy, which looks up keys in DNS.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from email.message import EmailMessage

import dkim

log = logging.getLogger(__name__)

DnsLookup = Callable[..., bytes | None]
_DKIM_PASS = re.compile(r"\bdkim\s*=\s*pass\b[^;]*?\bheader\.(?:d|i)\s*=\s*@?([^\s;]+)", re.IGNORECASE)


def domain_aligned(signing_domain: str, sender_domain: str) -> bool:
    """A signature counts for the sender if it is by their domain or a parent of it."""
    signing_domain, sender_domain = signing_domain.lower().rstrip("."), sender_domain.lower().rstrip(".")
    return sender_domain == signing_domain or sender_domain.endswith("." + signing_domain)


def trusted_results_pass(message: EmailMessage, authserv_id: str, sender_domain: str) -> bool:
    """True if the trusted relay's Authentication-Results report a DKIM pass for the sender."""
    for header in message.get_all("Authentication-Results", []):
        served_by, _, results = str(header).partition(";")
        if served_by.strip().split()[0:1] != [authserv_id]:
            continue  # anyone can write this header; only our relay's counts
        for match in _DKIM_PASS.finditer(results):
            if domain_aligned(match.group(1).split("@")[-1], sender_domain):
                return True
    return False


def signature_passes(raw: bytes, sender_domain: str, dnsfunc: DnsLookup | None = None) -> bool:
    """True if a DKIM signature by the sender's domain verifies (keys from DNS, or `dnsfunc`)."""
    verifier = dkim.DKIM(raw)
    count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    lookup = {"dnsfunc": dnsfunc} if dnsfunc else {}
    for index in range(count):
        try:
            verified = verifier.verify(idx=index, **lookup)
        except dkim.DKIMException as exc:
            log.info("dkim: signature %s did not verify: %s", index, exc)
            continue
        domain = (verifier.domain or b"").decode("ascii", "replace")
        if verified and domain_aligned(domain, sender_domain):
            return True
    return False
