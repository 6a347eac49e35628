"""Making a request: checked, stored with its audit event and its deliveries planned, at once.

The API's creates come through `create_request`, and so can anything else that asks people
(the MCP server), so the rules for a channel, its recipients, its limits and a taken
call_id live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signoff.models import ContactChannel, FunctionCallSpec, HumanContactSpec

from . import audit
from .addresses import InvalidAddress, normalize_address
from .channels import Destinations, UndeliverableChannel, destinations
from .context import Runtime
from .decisions import decide
from .errors import InvalidRequest
from .mail_out.custom_template import CustomTemplateError
from .store import chat, events, outbox
from .store.keys import default_channel
from .store.models import HumanRequest
from .store.requests import Decision, add_request, find_request
from .store.types import utcnow

RequestSpec = FunctionCallSpec | HumanContactSpec

NO_CHANNEL = (
    "spec.channel is missing and this project has no default channel: name one in spec.channel "
    "(or in the SDK's HumanLayer(contact_channel=...)), or set the project's with "
    "`signoff projects set-channel --project NAME --email ADDRESS` (or --slack / --discord)"
)


@dataclass(frozen=True)
class NewRequest:
    project_id: int
    kind: str
    run_id: str
    call_id: str
    spec: RequestSpec


class CallIdTaken(Exception):
    """The project has a request of this kind with this call_id: a retry, or two at once."""

    def __init__(self, existing: HumanRequest) -> None:
        super().__init__(f"call_id {existing.call_id!r} is taken")
        self.existing = existing


def create_request(
    session: Session, runtime: Runtime, new: NewRequest, *, actor: str, via: str
) -> HumanRequest:
    """Store `new` and plan its emails and chat messages, committed; InvalidRequest names what
    to change, CallIdTaken hands back the request stored first."""
    spec = _with_project_channel(session, new)
    found = _destinations(spec)
    _check_quorum(spec, found.emails)
    everyone = {*found.emails, *_schedule_addresses(spec)}
    check_recipient_count(runtime.settings.max_recipients, everyone, "the request with its schedule")
    try:
        created = _store(session, new, spec, found, actor=actor, via=via)
        _plan_deliveries(session, runtime, created, found)
        session.commit()
    except CustomTemplateError as exc:
        session.rollback()
        raise InvalidRequest(f"spec.channel.email.template: {exc}") from exc
    except IntegrityError:
        _raise_taken(session, new)
    runtime.mail_queued()
    return created


def create_decided_request(
    session: Session, runtime: Runtime, new: NewRequest, decision: Decision, *, actor: str, via: str
) -> HumanRequest:
    """Store `new` already decided by `decision` (a policy rule's), committed: no one is asked,
    nothing is delivered, and the trail shows who decided and why; CallIdTaken as above."""
    try:
        created = _store(session, new, new.spec, Destinations(emails=[], chats=[]), actor=actor, via=via)
        decide(session, created, decision)
        session.commit()
    except IntegrityError:
        _raise_taken(session, new)
    # Its webhooks' POSTs wait in the outbox.
    runtime.request_decided(created.id)
    return created


def _raise_taken(session: Session, new: NewRequest) -> None:
    # Inserting first and looking up only on a conflict saves a query on every create.
    session.rollback()
    existing = find_request(session, new.project_id, new.kind, new.call_id)
    if existing is None:
        raise  # the IntegrityError being handled: not a taken call_id
    raise CallIdTaken(existing) from None


def _store(
    session: Session, new: NewRequest, spec: RequestSpec, found: Destinations, *, actor: str, via: str
) -> HumanRequest:
    stored_spec, slack_bot_token = _without_secrets(spec)
    created = add_request(
        session,
        project_id=new.project_id,
        kind=new.kind,
        call_id=new.call_id,
        run_id=new.run_id,
        spec=stored_spec,
        slack_bot_token=slack_bot_token,
        recipients=found.emails,
        timeout_at=_after(spec.timeout_seconds),
        next_step_at=_after(spec.schedule[0].after_seconds if spec.schedule else None),
    )
    chats = {"chats": [f"{platform}:{target}" for platform, target in found.chats]} if found.chats else {}
    audit.record(session, created, events.CREATED, actor=actor, channel=via, recipients=found.emails, **chats)
    return created


def _without_secrets(spec: RequestSpec) -> tuple[dict, str | None]:
    """The spec as stored and shown, and the Slack bot token it carried, kept apart."""
    stored = spec.model_dump(mode="json")
    slack = (stored.get("channel") or {}).get("slack") or {}
    token = slack.get("bot_token")
    if token:
        slack["bot_token"] = None
    return stored, token


def _plan_deliveries(session: Session, runtime: Runtime, created: HumanRequest, found: Destinations) -> None:
    for platform, target in found.chats:
        chat.enqueue_post(session, created.id, platform, target)
    for mail in runtime.composer.planned_emails(created):
        outbox.enqueue_to_compose(
            session,
            created.id,
            mail.recipient,
            mail_from=mail.mail_from,
            subject=mail.subject,
            message_id=mail.message_id,
        )


def _with_project_channel(session: Session, new: NewRequest) -> RequestSpec:
    """The spec, with the project's default channel when it names none."""
    if new.spec.channel is not None:
        return new.spec
    default = default_channel(session, new.project_id)
    if default is None:
        raise InvalidRequest(NO_CHANNEL)
    return new.spec.model_copy(update={"channel": ContactChannel.model_validate(default)})


def _destinations(spec: RequestSpec) -> Destinations:
    try:
        found = destinations(spec.channel or ContactChannel())
    except UndeliverableChannel as exc:
        raise InvalidRequest(f"spec.channel{exc}") from exc
    if found.chats and getattr(spec, "approval_rule", "first") != "first":
        raise InvalidRequest(
            "spec.approval_rule: with a Slack or Discord channel the first answer decides; "
            '"all" and "quorum" count the votes of email recipients only'
        )
    return found


def _check_quorum(spec: RequestSpec, recipients: list[str]) -> None:
    quorum = getattr(spec, "quorum", None)
    if quorum is not None and quorum > len(recipients):
        raise InvalidRequest(
            f"spec.quorum: {quorum} approvals are needed but the request goes to {len(recipients)} "
            "address(es); add recipients or lower the quorum"
        )


def check_recipient_count(limit: int, addresses: set[str], what: str) -> None:
    """Refuse a request that would reach more people than max_recipients."""
    if len(addresses) > limit:
        raise InvalidRequest(
            f"{what} would go to {len(addresses)} addresses, over the limit of {limit} (max_recipients)"
        )


def _after(seconds: float | None) -> datetime | None:
    return None if seconds is None else utcnow() + timedelta(seconds=seconds)


def _schedule_addresses(spec: RequestSpec) -> list[str]:
    """Everyone the schedule's escalations would add, normalized; a bad address fails naming its field."""
    addresses = []
    for index, step in enumerate(spec.schedule or []):
        for number, recipient in enumerate(step.additional_recipients or []):
            try:
                addresses.append(normalize_address(recipient.address))
            except InvalidAddress as exc:
                raise InvalidRequest(
                    f"spec.schedule.{index}.additional_recipients.{number}.address: {exc}"
                ) from exc
    return addresses
