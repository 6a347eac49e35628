"""Turn a stored request into the emails its recipients receive.

One template folder per kind of mail (`subject.txt`, `body.txt`, `body.html`), one
renderer. HTML templates are autoescaped: everything an agent sent is shown as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..config import Settings
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.types import utcnow
from ..tokens import APPROVE, REJECT, RESPOND, LinkClaim, LinkSigner

SUBJECT_MAX_LENGTH = 200
QUESTION_SUBJECT_WORDS = 12


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


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

    def link(self, request: HumanRequest, action: str, recipient: str) -> str:
        token = self._signer.sign(LinkClaim(request_id=request.id, action=action, recipient=recipient))
        return f"{self._settings.public_base_url}/d/{token}"

    def request_emails(
        self, request: HumanRequest, recipients: list[str] | None = None, escalation_msg: str | None = None
    ) -> list[EmailMessage]:
        """One message per recipient, since each carries links signed for that person.

        `recipients` defaults to everyone on the request; `escalation_msg` heads a follow-up
        that brings the request to more people or reminds the first ones.
        """
        return [
            self._request_email(request, recipient, escalation_msg)
            for recipient in (request.recipients if recipients is None else recipients)
        ]

    def _request_email(
        self, request: HumanRequest, recipient: str, escalation_msg: str | None
    ) -> EmailMessage:
        channel = (request.spec.get("channel") or {}).get("email") or {}
        if request.kind == FUNCTION_CALL:
            variables = self._approval_variables(request, recipient, channel)
            folder = "approval"
        else:
            variables = self._question_variables(request, recipient, channel)
            folder = "question"
        rendered = self.render(folder, {**variables, "escalation_msg": escalation_msg})
        message = self._envelope(rendered, recipient, request.reply_token)
        _continue_thread(message, channel)
        return message

    def render(self, folder: str, variables: dict[str, Any]) -> RenderedMail:
        def render_file(name: str) -> str:
            return self._templates.get_template(f"email/{folder}/{name}").render(**variables)

        return RenderedMail(
            subject=header_safe(render_file("subject.txt")),
            text=render_file("body.txt"),
            html=render_file("body.html"),
        )

    def _approval_variables(self, request: HumanRequest, recipient: str, channel: dict) -> dict[str, Any]:
        spec = request.spec
        return {
            "fn": spec["fn"],
            "arguments": [(name, readable_value(value)) for name, value in spec["kwargs"].items()],
            "context": channel.get("context_about_user"),
            "run_id": request.run_id,
            "approve_url": self.link(request, APPROVE, recipient),
            "reject_url": self.link(request, REJECT, recipient),
        }

    def _question_variables(self, request: HumanRequest, recipient: str, channel: dict) -> dict[str, Any]:
        spec = request.spec
        subject = channel.get("subject") or spec.get("subject") or _subject_from_message(spec["msg"])
        return {
            "subject": subject,
            "message": spec["msg"],
            "context": channel.get("context_about_user"),
            "run_id": request.run_id,
            "respond_url": self.link(request, RESPOND, recipient),
        }

    def _envelope(self, rendered: RenderedMail, recipient: str, reply_token: str) -> EmailMessage:
        settings = self._settings
        message = EmailMessage()
        message["From"] = Address(display_name=settings.from_name, addr_spec=settings.mail_from)
        message["To"] = recipient
        message["Reply-To"] = f"reply+{reply_token}@{settings.reply_domain}"
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain=settings.reply_domain)
        # Tells well-behaved auto-responders not to answer us (RFC 3834).
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        return message


def _continue_thread(message: EmailMessage, channel: dict) -> None:
    in_reply_to = channel.get("in_reply_to_message_id")
    references = channel.get("references_message_id")
    if in_reply_to:
        message["In-Reply-To"] = header_safe(in_reply_to)
    if references:
        message["References"] = header_safe(references)


def header_safe(value: str) -> str:
    """One line, no control characters, bounded: nothing an agent sends can add a header."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return cleaned[:SUBJECT_MAX_LENGTH]


def readable_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _subject_from_message(message: str) -> str:
    words = message.split()
    subject = " ".join(words[:QUESTION_SUBJECT_WORDS])
    if len(words) > QUESTION_SUBJECT_WORDS:
        subject += " ..."
    return f"Question: {subject}"
