"""Escalation: bring more people into a request that is still waiting, in the same email thread.

`POST /agent/function_calls/<call_id>/escalate_email` and
`POST /agent/human_contacts/<call_id>/escalate_email` take HumanLayer's `Escalation` body.
The people it names become recipients of the request (so their links and replies count) and
get a follow-up headed by `escalation_msg`. An escalation that names nobody reminds everyone
the request already went to.
"""

from __future__ import annotations

from flask import Response, jsonify

from signoff.models import Escalation

from ..addresses import InvalidAddress, normalize_address
from ..context import db, runtime
from ..errors import AlreadyResponded, InvalidRequest
from ..escalation import send_follow_up
from ..mail_out.custom_template import CustomTemplateError
from ..requesting import check_recipient_count
from ..store import events
from ..store.models import FUNCTION_CALL, HUMAN_CONTACT, HumanRequest
from .blueprint import bp, find_or_404, parse_body
from .wire import DECIDED_BY_API, wire_body


@bp.post("/agent/function_calls/<call_id>/escalate_email")
def escalate_function_call(call_id: str) -> Response:
    return _escalate(FUNCTION_CALL, call_id)


@bp.post("/agent/human_contacts/<call_id>/escalate_email")
def escalate_human_contact(call_id: str) -> Response:
    return _escalate(HUMAN_CONTACT, call_id)


def _escalate(kind: str, call_id: str) -> Response:
    escalation = parse_body(Escalation)
    named = _named_addresses(escalation)
    found = find_or_404(kind, call_id)
    session = db()
    # Lock the row: a decision or a second escalation waits until this one is committed,
    # so neither a recipient nor a follow-up for a decided request slips through.
    found = session.get_one(HumanRequest, found.id, with_for_update=True, populate_existing=True)
    if found.is_decided:
        session.rollback()
        raise AlreadyResponded(f"call_id {call_id!r} was already answered; there is nobody left to ask")
    limit = runtime().settings.max_recipients
    check_recipient_count(limit, {*found.recipients, *named}, "the request with this escalation")
    try:
        send_follow_up(
            session,
            runtime().composer,
            found,
            named,
            escalation.escalation_msg,
            event=events.ESCALATED,
            actor=DECIDED_BY_API,
            channel="api",
        )
    except CustomTemplateError as exc:
        session.rollback()
        raise InvalidRequest(f"spec.channel.email.template: {exc}") from exc
    session.commit()
    runtime().mail_queued()
    return jsonify(wire_body(found))


def _named_addresses(escalation: Escalation) -> list[str]:
    """Every address the escalation names, normalized; a bad one fails naming its field."""
    fields = [
        (f"additional_recipients.{index}.address", recipient.address)
        for index, recipient in enumerate(escalation.additional_recipients or [])
    ]
    channel = escalation.channel
    if channel is not None:
        if channel.email is None:
            raise InvalidRequest("channel.email is required: signoff reaches people by email")
        fields.append(("channel.email.address", channel.email.address))
        fields.extend(
            (f"channel.email.additional_recipients.{index}.address", recipient.address)
            for index, recipient in enumerate(channel.email.additional_recipients or [])
        )
    addresses = []
    for field, address in fields:
        try:
            addresses.append(normalize_address(address))
        except InvalidAddress as exc:
            raise InvalidRequest(f"{field}: {exc}") from exc
    return list(dict.fromkeys(addresses))
