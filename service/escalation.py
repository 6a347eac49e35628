"""Follow-ups to a waiting request, in the thread of its first email: escalations and reminders.

The API's escalate_email and the schedule worker both come through `send_follow_up`: the
people named become recipients (their links and replies count), each gets a copy headed by
the message, and the event goes on the audit trail (and to the project's webhooks).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from . import audit
from .mail_out.compose import MailComposer, OutgoingMail
from .mail_out.presenting import thread_ids
from .store import outbox
from .store.models import HumanRequest, OutboxMessage
from .store.requests import add_recipients


def send_follow_up(
    session: Session,
    composer: MailComposer,
    request: HumanRequest,
    named: list[str],
    message: str | None,
    *,
    event: str,
    actor: str,
    channel: str,
) -> list[str]:
    """Queue the follow-up, in the caller's transaction; returns the addresses it added.

    Naming nobody sends it to everyone the request already went to. Raises
    `CustomTemplateError` when the request's own template cannot render it.
    """
    earlier = outbox.messages_for_request(session, request.id)
    added = add_recipients(session, request, named)
    follow_ups = composer.request_emails(
        request, recipients=named or list(request.recipients), escalation_msg=message
    )
    for mail in follow_ups:
        _show_new_recipients(mail, added)
        _reply_to_earlier_mail(mail, earlier)
        outbox.enqueue(session, mail.message, mail.envelope_to, request.id)
    audit.record(session, request, event, actor=actor, channel=channel, added=added, message=message)
    return added


def _show_new_recipients(mail: OutgoingMail, added: list[str]) -> None:
    """Put people this escalation brought in into the To of their own copy.

    The headers show the request's first audience, which does not include them; each copy
    goes to one person, so nobody else sees the address.
    """
    new = [address for address in mail.envelope_to if address in added]
    if new:
        message = mail.message
        to = ", ".join(part for part in (message["To"], *new) if part)
        del message["To"]
        message["To"] = to


def _reply_to_earlier_mail(mail: OutgoingMail, earlier: list[OutboxMessage]) -> None:
    """Make the follow-up a reply to an email of this request, so mail clients thread it.

    A person who already had an email about the request sees the follow-up under their own;
    someone new sees it under the first one sent.
    """
    if not earlier:
        return
    parent = next((row for row in earlier if set(mail.envelope_to) <= set(row.recipients)), earlier[0])
    message = mail.message
    # Keep the thread the agent asked to continue (if any) at the head of the chain.
    references = thread_ids(message.get("References"), parent.message_id)
    del message["In-Reply-To"]
    del message["References"]
    message["In-Reply-To"] = parent.message_id
    message["References"] = references
