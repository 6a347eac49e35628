"""Turn a stored inbound email into an answer, or record why it is not one.

The message is already durable (stored before SMTP said 250). Processing runs the checks
in `steps` in a fixed order; the first failure names the reason, stored on the row. Only
an accepted reply is answered, with one confirmation: bounces and auto-replies must not
start a mail loop, and a stranger learns nothing from silence.
"""

from __future__ import annotations

import email
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.errors import MessageError
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from functools import partial

from sqlalchemy.orm import Session

from ..config import Settings
from ..context import Runtime
from ..decisions import decide, recorded_for
from ..headers import MAIL_POLICY
from ..mail_out.compose import MailComposer, OutgoingMail
from ..store import inbound, outbox
from ..store.models import FUNCTION_CALL, HumanRequest, InboundMessage, OutboxMessage
from ..store.requests import Decision
from .decision_words import match_response_option, read_approval_reply
from .errors import AlreadyDecided, EmptyReply, Rejected, Unparseable
from .reply_text import reply_text
from .steps import (
    Arrival,
    check_sender,
    check_sender_signed,
    check_still_open,
    find_request,
    reject_auto_replies,
    reject_bounces,
    reject_too_many_headers,
)

log = logging.getLogger(__name__)

DECIDED_VIA_EMAIL = "email"
# RecursionError: the stdlib parser recurses once per nested multipart, so a message nested
# about a thousand deep cannot be read at all.
PARSE_ERRORS = (MessageError, ValueError, LookupError, TypeError, UnicodeError, RecursionError)

# Every header the checks, the reading of the answer and the confirmation look at.
READ_HEADERS = (
    "From",
    "Subject",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Precedence",
    "Authentication-Results",
)

ArrivalCheck = Callable[[Arrival], None]


def arrival_checks(settings: Settings) -> tuple[ArrivalCheck, ...]:
    """The whole policy, in order: checks on the message alone come before any lookup."""
    return (
        partial(reject_too_many_headers, limit=settings.max_message_headers),
        reject_bounces,
        reject_auto_replies,
    )


@dataclass(frozen=True)
class AcceptedReply:
    request: HumanRequest
    arrival: Arrival
    sender: str
    decision: Decision


class InboundProcessor:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._arrival_checks = arrival_checks(runtime.settings)

    def process(self, inbound_id: int) -> None:
        with self._runtime.session() as session:
            row = session.get(InboundMessage, inbound_id, with_for_update=True)
            if row is None or row.status != inbound.RECEIVED:
                return
            try:
                accepted = self._accept(session, row)
            except Rejected as rejection:
                inbound.record_outcome(
                    row,
                    status=inbound.REJECTED,
                    reason=rejection.reason,
                    detail=rejection.detail,
                    request_id=rejection.request_id,
                )
                log.info("inbound %s rejected: %s (%s)", row.id, rejection.reason, rejection.detail)
                return
            inbound.record_outcome(row, status=inbound.ACCEPTED, request_id=accepted.request.id)
            self._confirm(session, row, accepted)
            log.info("inbound %s answered request %s", row.id, accepted.request.id)
        self._runtime.request_decided(accepted.request.id)
        self._runtime.mail_queued()

    def process_backlog(self) -> int:
        """Finish messages stored by an earlier run that stopped before processing them."""
        with self._runtime.session() as session:
            pending = inbound.unprocessed_ids(session)
        for inbound_id in pending:
            self.process(inbound_id)
        return len(pending)

    def _accept(self, session: Session, row: InboundMessage) -> AcceptedReply:
        message = _parse(row.raw)
        row.attachments = _attachments(message)
        arrival = Arrival(message, row.raw, row.envelope_from, row.envelope_to)
        for check in self._arrival_checks:
            check(arrival)
        request = find_request(session, arrival, self._runtime.settings.reply_domain)
        check_still_open(request)
        sender = check_sender(arrival, request)
        check_sender_signed(arrival, request, sender, self._runtime.settings)
        decision = _decision(message, request, sender)
        if not decide(session, request, decision):
            raise AlreadyDecided("another answer was recorded first", request.id)
        return AcceptedReply(request, arrival, sender, decision)

    def _confirm(self, session: Session, row: InboundMessage, accepted: AcceptedReply) -> None:
        # Planned with the outcome, in one transaction: exactly one confirmation per reply.
        # The worker composes it (`compose_confirmation`) when it sends it.
        planned = self._runtime.composer.planned_confirmation(
            accepted.request, accepted.arrival.message, accepted.sender
        )
        outbox.enqueue_to_compose(
            session,
            accepted.request.id,
            planned.recipient,
            mail_from=planned.mail_from,
            subject=planned.subject,
            message_id=planned.message_id,
            confirms_inbound_id=row.id,
        )


def compose_confirmation(
    session: Session, composer: MailComposer, request: HumanRequest, planned: OutboxMessage
) -> OutgoingMail | None:
    """The confirmation `planned` stands for, from the reply it confirms and the answer
    recorded for its sender; None when either is gone."""
    reply = session.get(InboundMessage, planned.confirms_inbound_id)
    sender = planned.recipients[0]
    recorded = recorded_for(session, request, sender)
    if reply is None or recorded is None:
        return None
    # Its headers were read when the reply was accepted; the thread needs only those.
    headers = BytesHeaderParser(policy=MAIL_POLICY).parsebytes(reply.raw)
    return composer.confirmation_email(request, headers, sender, describe(recorded), planned.message_id)


def describe(decision: Decision) -> str:
    """What we recorded, in the words the person gets back."""
    option = f" (option: {decision.option_name})" if decision.option_name else ""
    if decision.approved is True:
        return f"Approved{option}." + (f"\nComment: {decision.comment}" if decision.comment else "")
    if decision.approved is False:
        return f"Rejected{option}." + (f"\nComment: {decision.comment}" if decision.comment else "")
    return f"Answer{option}:\n{decision.response}"


def _parse(raw: bytes) -> EmailMessage:
    try:
        message = email.message_from_bytes(raw, policy=MAIL_POLICY)
        message.get_content_type()
    except PARSE_ERRORS as exc:
        raise Unparseable(f"cannot parse the message: {exc}") from exc
    # Header values are parsed when first read, and the stdlib parser fails on some garbage
    # (an IndexError on "From: =?utf-8?b?!!!?="): read the ones the checks use here, once.
    for name in READ_HEADERS:
        try:
            message.get_all(name)
        except PARSE_ERRORS as exc:
            raise Unparseable(f"cannot read the {name} header: {exc!r}") from exc
    return message  # type: ignore[return-value]


def _attachments(message: EmailMessage) -> list[dict[str, object]]:
    """Files that came with the reply: kept in the raw message, listed, never read as an answer."""
    found = []
    try:
        for part in message.iter_attachments() if message.is_multipart() else []:
            payload = part.get_payload(decode=True) or b""
            found.append(
                {
                    "filename": part.get_filename() or "(unnamed)",
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                }
            )
    except PARSE_ERRORS as exc:
        log.info("inbound: could not list attachments: %s", exc)
    return found


def _decision(message: EmailMessage, request: HumanRequest, sender: str) -> Decision:
    try:
        text = reply_text(message)
    except PARSE_ERRORS as exc:
        raise Unparseable(f"cannot read the body: {exc}", request.id) from exc
    if not text:
        raise EmptyReply("the reply has no text of its own", request.id)
    options = [option["name"] for option in request.options]
    if request.kind != FUNCTION_CALL:
        return Decision(
            sender, DECIDED_VIA_EMAIL, response=text, option_name=match_response_option(text, options)
        )
    reply = read_approval_reply(text, options)
    return Decision(
        sender,
        DECIDED_VIA_EMAIL,
        approved=reply.approved,
        comment=reply.comment or (None if reply.approved else ""),
        option_name=reply.option_name,
    )
