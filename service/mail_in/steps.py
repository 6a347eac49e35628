"""The checks an inbound email passes before it counts as an answer, one reason each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from sqlalchemy.orm import Session

from ..addresses import InvalidAddress, mailbox_key, normalize_address
from ..config import Settings
from ..mail_out.presenting import MESSAGE_ID
from ..store.models import HumanRequest
from ..store.requests import request_by_reply_token, request_by_sent_message_ids
from .authentication import signature_passes, trusted_results_pass
from .errors import (
    AlreadyDecided,
    AutoReply,
    Bounce,
    NoMatchingRequest,
    SenderNotAllowed,
    SenderNotAuthenticated,
    TooManyHeaders,
)

REPLY_LOCAL_PART = re.compile(r"^reply\+([0-9a-z]+)$", re.IGNORECASE)
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
AUTO_REPLY_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Reply")


@dataclass(frozen=True)
class Arrival:
    """An inbound email with what the SMTP envelope said about it."""

    message: EmailMessage
    raw: bytes
    envelope_from: str
    envelope_to: list[str]


def reject_too_many_headers(arrival: Arrival, limit: int) -> None:
    # Counted before anything reads them: no person's reply needs hundreds of header fields.
    count = len(arrival.message)
    if count > limit:
        raise TooManyHeaders(f"{count} header fields, more than max_message_headers ({limit})")


def reject_bounces(arrival: Arrival) -> None:
    message = arrival.message
    if arrival.envelope_from in ("", "<>"):
        raise Bounce("null envelope sender: a delivery notification, not a person")
    if message.get_content_type() == "multipart/report":
        raise Bounce(f"delivery report ({message.get_param('report-type', 'unknown')})")
    if arrival.envelope_from.lower().startswith(BOUNCE_SENDERS):
        raise Bounce(f"sent by {arrival.envelope_from}")


def reject_auto_replies(arrival: Arrival) -> None:
    message = arrival.message
    auto_submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto_submitted != "no":
        raise AutoReply(f"Auto-Submitted: {auto_submitted}")
    for header in AUTO_REPLY_HEADERS:
        if header in message:
            raise AutoReply(f"{header} header present")
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in AUTO_REPLY_PRECEDENCE:
        raise AutoReply(f"Precedence: {precedence}")


def find_request(session: Session, arrival: Arrival, reply_domain: str) -> HumanRequest:
    """The request this email answers: by its reply address, else by the thread it continues."""
    for recipient in arrival.envelope_to:
        local, _, domain = recipient.rpartition("@")
        match = REPLY_LOCAL_PART.match(local)
        if match and domain.lower() == reply_domain:
            found = request_by_reply_token(session, match.group(1))
            if found is not None:
                return found
    thread_ids = MESSAGE_ID.findall(
        f"{arrival.message.get('In-Reply-To', '')} {arrival.message.get('References', '')}"
    )
    found = request_by_sent_message_ids(session, thread_ids)
    if found is None:
        raise NoMatchingRequest(f"no request matches {', '.join(arrival.envelope_to)} or the thread headers")
    return found


def check_sender(arrival: Arrival, request: HumanRequest) -> str:
    """The recipient the sender is, if the request was sent to them (case and +tags aside)."""
    senders = [address for _, address in getaddresses([str(arrival.message.get("From", ""))]) if address]
    if len(senders) != 1:
        raise SenderNotAllowed("the message must have exactly one From address", request.id)
    try:
        sender = normalize_address(senders[0])
    except InvalidAddress as exc:
        raise SenderNotAllowed(str(exc), request.id) from exc
    for recipient in request.recipients:
        if mailbox_key(recipient) == mailbox_key(sender):
            return recipient
    raise SenderNotAllowed(f"{sender} is not a recipient of this request", request.id)


def check_sender_signed(arrival: Arrival, request: HumanRequest, sender: str, settings: Settings) -> None:
    """With `require_dkim`, the sender's domain must have signed the message."""
    if not settings.require_dkim:
        return
    domain = sender.rpartition("@")[2]
    if settings.trusted_authserv_id:
        signed = trusted_results_pass(arrival.message, settings.trusted_authserv_id, domain)
        how = f"no DKIM pass for {domain} from {settings.trusted_authserv_id}"
    else:
        signed = signature_passes(arrival.raw, domain)
        how = f"no valid DKIM signature by {domain}"
    if not signed:
        raise SenderNotAuthenticated(how, request.id)


def check_still_open(request: HumanRequest) -> None:
    if request.is_decided:
        raise AlreadyDecided(f"already decided by {request.decided_by}", request.id)
