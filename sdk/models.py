"""The wire models: the JSON that agents and the service exchange.

They follow HumanLayer's v1 REST format field for field, so its official client and
ours read the same documents. The service validates incoming bodies with these same
classes; there is no second copy of the rules on the server side.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator

# Lengths that keep a single request to a size a person can read in one email.
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 200
# The longest a request may wait for the server to time it out: 30 days.
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600

_DURATION_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def describe_duration(seconds: float) -> str:
    """Seconds as people write them: '1 s', '0.5 s', '1 min 30 s', '2 h', '2 d'."""
    parts = []
    remaining = round(seconds, 3)
    for unit, size in _DURATION_UNITS:
        if remaining >= size:
            whole = int(remaining // size)
            parts.append(f"{whole} {unit}")
            remaining = round(remaining - whole * size, 3)
    if remaining or not parts:
        parts.append(f"{remaining:g} s")
    return " ".join(parts)


def timeout_sentence(fn: str | None, seconds: float) -> str:
    """What the agent's model reads when nobody decided (or answered) in time."""
    return f"No one responded to {fn or 'the question'} within {describe_duration(seconds)}"


class EmailRecipient(BaseModel):
    """Another person who receives the same request."""

    address: str
    context_about_user: str | None = None
    field: Literal["to", "cc", "bcc"] | None = None


class ScheduleStep(BaseModel):
    """signoff's own: what the server does while a request waits, `after_seconds` after it was made.

    "remind" sends the request again to everyone it went to; "escalate" sends a follow-up headed
    by `escalation_msg` to `additional_recipients` (or, naming nobody, to everyone), who become
    approvers too. Both go in the thread of the first email. Steps stop once it is decided.
    """

    after_seconds: float = Field(gt=0, le=MAX_TIMEOUT_SECONDS)
    action: Literal["remind", "escalate"]
    escalation_msg: str | None = Field(default=None, max_length=10_000)
    additional_recipients: list[EmailRecipient] | None = None


def _in_time_order(schedule: list[ScheduleStep] | None) -> list[ScheduleStep] | None:
    return None if schedule is None else sorted(schedule, key=lambda step: step.after_seconds)


class EmailContactChannel(BaseModel):
    """Reach a person by email."""

    address: str
    context_about_user: str | None = None
    additional_recipients: list[EmailRecipient] | None = None

    # Set these to continue an existing conversation instead of starting a new one.
    subject: str | None = None
    references_message_id: str | None = None
    in_reply_to_message_id: str | None = None

    # Older spellings of the three fields above, still sent by HumanLayer's client.
    experimental_subject_line: str | None = None
    experimental_references_message_id: str | None = None
    experimental_in_reply_to_message_id: str | None = None

    template: str | None = None

    @model_validator(mode="after")
    def _mirror_experimental_fields(self) -> EmailContactChannel:
        # Whichever spelling the caller used, both read the same afterwards.
        for current, legacy in (
            ("subject", "experimental_subject_line"),
            ("references_message_id", "experimental_references_message_id"),
            ("in_reply_to_message_id", "experimental_in_reply_to_message_id"),
        ):
            value = getattr(self, current) or getattr(self, legacy)
            setattr(self, current, value)
            setattr(self, legacy, value)
        return self

    @classmethod
    def in_reply_to(
        cls,
        from_address: str,
        subject: str,
        message_id: str,
        context_about_user: str | None = None,
    ) -> EmailContactChannel:
        """A channel that answers an email the agent received, in the same thread."""
        return cls(
            address=from_address,
            context_about_user=context_about_user,
            subject=f"Re: {subject}",
            in_reply_to_message_id=message_id,
            references_message_id=message_id,
        )

    def all_addresses(self) -> list[str]:
        """Every address this channel sends to, the main one first."""
        extra = [recipient.address for recipient in self.additional_recipients or []]
        return [self.address, *extra]


class SlackContactChannel(BaseModel):
    """Reach a Slack channel (C...) or a person by DM (U...), through the project's Slack app.

    `bot_token` overrides the project's token for this channel (kept apart by the service and
    never shown back, in the API or anywhere else); with `allowed_responder_ids`,
    only those Slack users may decide or answer; `thread_ts` posts into an existing thread.
    """

    channel_or_user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    context_about_channel_or_user: str | None = None
    bot_token: str | None = None
    allowed_responder_ids: list[str] | None = None
    experimental_slack_blocks: bool | None = None
    thread_ts: str | None = None


class DiscordContactChannel(BaseModel):
    """Reach a Discord channel, by its id, through the project's Discord bot."""

    channel_or_user_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    context_about_channel_or_user: str | None = None


class SMSContactChannel(BaseModel):
    """Accepted for wire compatibility; signoff does not deliver SMS."""

    phone_number: str
    context_about_user: str | None = None


class WhatsAppContactChannel(BaseModel):
    """Accepted for wire compatibility; signoff does not deliver to WhatsApp."""

    phone_number: str
    context_about_user: str | None = None


class ContactChannel(BaseModel):
    """Where a request goes. signoff delivers the `email`, `slack` and `discord` routes."""

    slack: SlackContactChannel | None = None
    sms: SMSContactChannel | None = None
    whatsapp: WhatsAppContactChannel | None = None
    email: EmailContactChannel | None = None
    discord: DiscordContactChannel | None = None

    def context(self) -> str | None:
        """What the agent was told about the person behind this channel."""
        for route in (self.email, self.slack, self.discord, self.sms, self.whatsapp):
            if route is None:
                continue
            return getattr(route, "context_about_user", None) or getattr(
                route, "context_about_channel_or_user", None
            )
        return None


class ResponseOption(BaseModel):
    """A ready-made answer the person can pick instead of typing one."""

    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    title: str | None = None
    description: str | None = None
    prompt_fill: str | None = None
    interactive: bool = False


def _require_unique_names(options: list[ResponseOption] | None) -> list[ResponseOption] | None:
    """Two options with one name could not be told apart in a reply."""
    if options:
        names = [option.name for option in options]
        if len(names) != len(set(names)):
            raise ValueError("option names must be unique")
    return options


class FunctionCallSpec(BaseModel):
    """What the agent wants to run."""

    fn: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    kwargs: dict
    channel: ContactChannel | None = None
    reject_options: list[ResponseOption] | None = None
    state: dict | None = None
    # signoff's own: the server decides for the absent (rejects, unless this says approve).
    timeout_seconds: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_SECONDS)
    on_timeout: Literal["reject", "approve"] = "reject"
    # signoff's own: with several recipients, whose approval it takes. "first": the first answer
    # decides; "all": everyone must approve; "quorum": `quorum` of them. A reject by anyone
    # rejects, unless any_reject_rejects is false: then only once the approvals cannot be reached.
    approval_rule: Literal["first", "all", "quorum"] = "first"
    quorum: int | None = Field(default=None, ge=1)
    any_reject_rejects: bool = True
    schedule: list[ScheduleStep] | None = Field(default=None, max_length=20)

    @field_validator("schedule")
    @classmethod
    def _schedule_in_order(cls, schedule: list[ScheduleStep] | None) -> list[ScheduleStep] | None:
        return _in_time_order(schedule)

    @model_validator(mode="after")
    def _quorum_goes_with_its_rule(self) -> FunctionCallSpec:
        if (self.approval_rule == "quorum") != (self.quorum is not None):
            raise ValueError('quorum is required with approval_rule "quorum", and only with it')
        return self

    @field_validator("reject_options")
    @classmethod
    def _unique_reject_options(cls, options: list[ResponseOption] | None) -> list[ResponseOption] | None:
        return _require_unique_names(options)


class FunctionCallStatus(BaseModel):
    """Where a function call stands; `approved` stays None until someone decides."""

    requested_at: datetime | None = None
    responded_at: datetime | None = None
    approved: bool | None = None
    comment: str | None = None
    reject_option_name: str | None = None
    slack_message_ts: str | None = None
    # signoff's own: True when the server decided because no one answered in time.
    timed_out: bool | None = None
    # signoff's own: True when an operator withdrew the request (it is rejected, never approved).
    withdrawn: bool | None = None

    class Approved(BaseModel):
        approved: Literal[True]
        comment: str | None

    class Rejected(BaseModel):
        approved: Literal[False]
        comment: str

    def as_completed(self) -> FunctionCallStatus.Approved | FunctionCallStatus.Rejected:
        """The decision, typed by its outcome; raises while nobody has decided."""
        if self.approved is None:
            raise ValueError("the function call has not been decided yet")
        if self.approved:
            return FunctionCallStatus.Approved(approved=True, comment=self.comment)
        return FunctionCallStatus.Rejected(approved=False, comment=self.comment or "")


class FunctionCall(BaseModel):
    """A request for approval to run one function call."""

    run_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    call_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    spec: FunctionCallSpec
    status: FunctionCallStatus | None = None

    class Completed(BaseModel):
        call: FunctionCall

        def as_completed(self) -> FunctionCallStatus.Approved | FunctionCallStatus.Rejected:
            if self.call.status is None:
                raise ValueError("the function call has not been decided yet")
            return self.call.status.as_completed()


class Escalation(BaseModel):
    """Bring more people into a request that is still waiting."""

    escalation_msg: str
    additional_recipients: list[EmailRecipient] | None = None
    channel: ContactChannel | None = None


class HumanContactSpec(BaseModel):
    """A free-form question for a person."""

    msg: str = Field(min_length=1)
    subject: str | None = None
    channel: ContactChannel | None = None
    response_options: list[ResponseOption] | None = None
    state: dict | None = None
    # signoff's own: reminders and escalation run by the server (see ScheduleStep), and a
    # timeout after which the agent is told that no one answered.
    schedule: list[ScheduleStep] | None = Field(default=None, max_length=20)
    timeout_seconds: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_SECONDS)

    @field_validator("schedule")
    @classmethod
    def _schedule_in_order(cls, schedule: list[ScheduleStep] | None) -> list[ScheduleStep] | None:
        return _in_time_order(schedule)

    @field_validator("response_options")
    @classmethod
    def _unique_response_options(cls, options: list[ResponseOption] | None) -> list[ResponseOption] | None:
        return _require_unique_names(options)


class HumanContactStatus(BaseModel):
    """Where a question stands; `response` stays None until someone answers."""

    requested_at: datetime | None = None
    responded_at: datetime | None = None
    response: str | None = None
    response_option_name: str | None = None
    # signoff's own: True when `response` is the server's word that no one answered in time.
    timed_out: bool | None = None
    # signoff's own: True when `response` says an operator withdrew the question.
    withdrawn: bool | None = None


class HumanContact(BaseModel):
    """A question put to a person, and their answer once given."""

    run_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    call_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)
    spec: HumanContactSpec
    status: HumanContactStatus | None = None

    class Completed(BaseModel):
        contact: HumanContact

        def as_completed(self) -> str:
            if self.contact.status is None or self.contact.status.response is None:
                raise ValueError("the question has not been answered yet")
            return self.contact.status.response


__all__ = [
    "ContactChannel",
    "DiscordContactChannel",
    "EmailContactChannel",
    "EmailRecipient",
    "Escalation",
    "FunctionCall",
    "FunctionCallSpec",
    "FunctionCallStatus",
    "HumanContact",
    "HumanContactSpec",
    "HumanContactStatus",
    "ResponseOption",
    "SMSContactChannel",
    "SlackContactChannel",
    "WhatsAppContactChannel",
]


class WebhookSpec(BaseModel):
    """signoff's own: a URL of the project's that is told of every decision, timeout and escalation."""

    url: str = Field(max_length=2000)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL with a host")
        return url
