"""Turn a stored inbound email into an answer, or record why it is not one.

The message is already durable (stored before SMTP said 250). Processing runs the checks
in `steps` in a fixed order; the first failure names the reason, stored on the row.
Nothing here ever writes back to the sender: bounces and auto-replies must not start a
mail loop, and a stranger learns nothing from silence.
"""

from __future__ import annotations

import email
import email.policy
import logging
from email.errors import MessageError
from email.message import EmailMessage

from sqlalchemy.orm import Session

from ..context import Runtime
from ..store import inbound
from ..store.models import FUNCTION_CALL, HumanRequest, InboundMessage
from ..store.requests import Decision, record_decision
from .decision_words import read_decision
from .errors import AlreadyDecided, EmptyReply, Rejected, Unparseable
from .reply_text import reply_text
from .steps import Arrival, check_sender, check_still_open, find_request, reject_auto_replies, reject_bounces

log = logging.getLogger(__name__)

DECIDED_VIA_EMAIL = "email"

# The whole policy, in order: checks on the message alone come before any lookup.
ARRIVAL_CHECKS = (reject_bounces, reject_auto_replies)


class InboundProcessor:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def process(self, inbound_id: int) -> None:
        decided_request_id = None
        with self._runtime.session() as session:
            row = session.get(InboundMessage, inbound_id, with_for_update=True)
            if row is None or row.status != inbound.RECEIVED:
                return
            try:
                decided_request_id = self._accept(session, row)
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
            inbound.record_outcome(row, status=inbound.ACCEPTED, request_id=decided_request_id)
            log.info("inbound %s answered request %s", row.id, decided_request_id)
        self._runtime.request_decided(decided_request_id)

    def process_backlog(self) -> int:
        """Finish messages stored by an earlier run that stopped before processing them."""
        with self._runtime.session() as session:
            pending = inbound.unprocessed_ids(session)
        for inbound_id in pending:
            self.process(inbound_id)
        return len(pending)

    def _accept(self, session: Session, row: InboundMessage) -> int:
        arrival = Arrival(_parse(row.raw), row.envelope_from, row.envelope_to)
        for check in ARRIVAL_CHECKS:
            check(arrival)
        request = find_request(session, arrival, self._runtime.settings.reply_domain)
        check_still_open(request)
        sender = check_sender(arrival, request)
        if not record_decision(session, request.id, _decision(arrival.message, request, sender)):
            raise AlreadyDecided("another answer was recorded first", request.id)
        return request.id


def _parse(raw: bytes) -> EmailMessage:
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message.get_content_type()
    except (MessageError, ValueError, LookupError, TypeError) as exc:
        raise Unparseable(f"cannot parse the message: {exc}") from exc
    return message  # type: ignore[return-value]


def _decision(message: EmailMessage, request: HumanRequest, sender: str) -> Decision:
    try:
        text = reply_text(message)
    except (MessageError, ValueError, LookupError, TypeError) as exc:
        raise Unparseable(f"cannot read the body: {exc}", request.id) from exc
    if not text:
        raise EmptyReply("the reply has no text of its own", request.id)
    if request.kind != FUNCTION_CALL:
        return Decision(sender, DECIDED_VIA_EMAIL, response=text)
    approved, comment = read_decision(text)
    return Decision(
        sender, DECIDED_VIA_EMAIL, approved=approved, comment=comment or (None if approved else "")
    )
