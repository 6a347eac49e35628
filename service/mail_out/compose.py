"""Turn a stored request into the emails its recipients receive.

One template folder per kind of mail (`subject.txt`, `body.txt`, `body.html`), one
renderer. HTML templates are autoescaped: everything an agent sent is shown as text.
Each recipient gets a message of their own, because its links are signed for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..config import Settings
from ..headers import MAIL_POLICY
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.types import utcnow
from ..tokens import APPROVE, REJECT, RESPOND, LinkClaim, LinkSigner
from .custom_template import CustomTemplates
from .presenting import arguments_for_email, fold, header_safe, question_subject, thread_ids

# RFC 3834: tells auto-responders not to answer. Replies we confirm are "auto-replied".
AUTO_GENERATED = "auto-generated"
AUTO_REPLIED = "auto-replied"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class OutgoingMail:
    """A message and who it is delivered to (which need not be everyone its headers show)."""

    message: EmailMessage
    envelope_to: list[str]


@dataclass(frozen=True)
class PlannedMail:
    """An email decided on but not yet composed: the worker composes it when it sends it."""

    recipient: str
    mail_from: str
    subject: str
    message_id: str


@dataclass(frozen=True)
class Audience:
    """Who a request's emails show in To and Cc; Bcc recipients are shown nowhere."""

    to: list[str]
    cc: list[str]

    @classmethod
    def of(cls, request: HumanRequest) -> Audience:
        email = _email_channel(request)
        to = [email.get("address", "")]
        cc: list[str] = []
        for recipient in email.get("additional_recipients") or []:
            field = recipient.get("field") or "to"
            if field == "to":
                to.append(recipient["address"])
            elif field == "cc":
                cc.append(recipient["address"])
        return cls(to=[address for address in to if address], cc=cc)


class MailComposer:
    def __init__(self, settings: Settings, signer: LinkSigner) -> None:
        self._settings = settings
        self._signer = signer
        self._templates = Environment(
            loader=PackageLoader("signoff_service", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self._templates.filters["fold"] = fold
        self._custom = CustomTemplates()

    def link(self, request: HumanRequest, action: str, recipient: str, option: str | None = None) -> str:
        claim = LinkClaim(request_id=request.id, action=action, recipient=recipient, option=option)
        return f"{self._settings.public_base_url}/d/{self._signer.sign(claim)}"

    def request_emails(
        self, request: HumanRequest, recipients: list[str] | None = None, escalation_msg: str | None = None
    ) -> list[OutgoingMail]:
        """One message per recipient; raises CustomTemplateError if the request's template fails.

        `recipients` defaults to everyone on the request; `escalation_msg` heads a follow-up
        that brings the request to more people or reminds the first ones.
        """
        audience = Audience.of(request)
        return [
            self._request_email(request, recipient, audience, escalation_msg)
            for recipient in (request.recipients if recipients is None else recipients)
        ]

    def planned_emails(self, request: HumanRequest) -> list[PlannedMail]:
        """One per recipient, to compose at send time with `request_email`.

        A request's own template is tried now, so one that cannot render is refused to the
        agent (CustomTemplateError) instead of failing later in the worker.
        """
        custom = _email_channel(request).get("template")
        if custom and request.recipients:
            self._custom.render(custom, self.template_variables(request, request.recipients[0]))
        subject = self._subject(request)
        return [
            PlannedMail(recipient, self._settings.mail_from, subject, self._new_message_id())
            for recipient in request.recipients
        ]

    def request_email(self, request: HumanRequest, recipient: str, message_id: str) -> OutgoingMail:
        """The email a `PlannedMail` stood for, under the Message-ID it was given."""
        return self._request_email(request, recipient, Audience.of(request), None, message_id)

    def planned_confirmation(self, request: HumanRequest, reply: EmailMessage, sender: str) -> PlannedMail:
        """The confirmation of `reply`, to compose at send time with `confirmation_email`."""
        return PlannedMail(
            sender,
            self._settings.mail_from,
            self._confirmation_subject(request, reply),
            self._new_message_id(),
        )

    def confirmation_email(
        self, request: HumanRequest, reply: EmailMessage, sender: str, recorded: str, message_id: str
    ) -> OutgoingMail:
        """A short note to the person who replied, in their thread, saying what we recorded."""
        subject = self._confirmation_subject(request, reply)
        variables = {"subject": subject, "recorded": recorded, "run_id": request.run_id}
        rendered = self.render("confirmation", {**variables, "context": None, "escalation_msg": None})
        message = self._message(rendered, request, message_id)
        message["To"] = sender
        message.replace_header("Auto-Submitted", AUTO_REPLIED)
        reply_id = str(reply.get("Message-ID", "")).strip()
        if reply_id:
            message["In-Reply-To"] = thread_ids(reply_id)
            message["References"] = thread_ids(str(reply.get("References", "")), reply_id)
        return OutgoingMail(message, [sender])

    def _confirmation_subject(self, request: HumanRequest, reply: EmailMessage) -> str:
        replied_to = str(reply.get("Subject", "")).strip() or self._subject(request)
        return header_safe(replied_to if replied_to.lower().startswith("re:") else f"Re: {replied_to}")

    def render(self, folder: str, variables: dict[str, Any]) -> RenderedMail:
        def render_file(name: str) -> str:
            return self._templates.get_template(f"email/{folder}/{name}").render(**variables)

        return RenderedMail(
            subject=header_safe(render_file("subject.txt")),
            text=render_file("body.txt"),
            html=render_file("body.html"),
        )

    def _request_email(
        self,
        request: HumanRequest,
        recipient: str,
        audience: Audience,
        escalation_msg: str | None,
        message_id: str | None = None,
    ) -> OutgoingMail:
        variables = {**self.template_variables(request, recipient), "escalation_msg": escalation_msg}
        rendered = self.render("approval" if request.kind == FUNCTION_CALL else "question", variables)
        custom = _email_channel(request).get("template")
        if custom:
            rendered = RenderedMail(rendered.subject, rendered.text, self._custom.render(custom, variables))
        message = self._message(rendered, request, message_id)
        message["To"] = ", ".join(audience.to)
        if audience.cc:
            message["Cc"] = ", ".join(audience.cc)
        _continue_thread(message, _email_channel(request))
        return OutgoingMail(message, [recipient])

    def template_variables(self, request: HumanRequest, recipient: str) -> dict[str, Any]:
        """The variables every request template sees, custom ones included (documented)."""
        spec = request.spec
        common = {
            "kind": request.kind,
            "run_id": request.run_id,
            "call_id": request.call_id,
            "recipient": recipient,
            "context": _email_channel(request).get("context_about_user"),
            "subject": self._subject(request),
        }
        if request.kind == FUNCTION_CALL:
            return {
                **common,
                "fn": spec["fn"],
                "kwargs": spec["kwargs"],
                "arguments": arguments_for_email(spec["kwargs"]),
                "approve_url": self.link(request, APPROVE, recipient),
                "reject_url": self.link(request, REJECT, recipient),
                "options": self._options(request, REJECT, recipient),
            }
        return {
            **common,
            "message": spec["msg"],
            "respond_url": self.link(request, RESPOND, recipient),
            "options": self._options(request, RESPOND, recipient),
        }

    def _options(self, request: HumanRequest, action: str, recipient: str) -> list[dict[str, Any]]:
        return [
            {
                "name": option["name"],
                "title": option.get("title") or option["name"],
                "description": option.get("description"),
                "url": self.link(request, action, recipient, option["name"]),
            }
            for option in request.options
        ]

    def _subject(self, request: HumanRequest) -> str:
        spec = request.spec
        chosen = _email_channel(request).get("subject")
        if chosen:
            return header_safe(chosen)
        if request.kind == FUNCTION_CALL:
            return header_safe(f"Approval needed: {spec['fn']}")
        return header_safe(spec.get("subject") or question_subject(spec["msg"]))

    def _new_message_id(self) -> str:
        return make_msgid(domain=self._settings.reply_domain)

    def _message(
        self, rendered: RenderedMail, request: HumanRequest, message_id: str | None = None
    ) -> EmailMessage:
        settings = self._settings
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = Address(display_name=settings.from_name, addr_spec=settings.mail_from)
        message["Reply-To"] = f"reply+{request.reply_token}@{settings.reply_domain}"
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = message_id or self._new_message_id()
        message["Auto-Submitted"] = AUTO_GENERATED
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message


def _email_channel(request: HumanRequest) -> dict[str, Any]:
    return (request.spec.get("channel") or {}).get("email") or {}


def _continue_thread(message: EmailMessage, channel: dict) -> None:
    in_reply_to = channel.get("in_reply_to_message_id")
    references = channel.get("references_message_id")
    if in_reply_to:
        message["In-Reply-To"] = thread_ids(in_reply_to)
    if references:
        message["References"] = thread_ids(references)
