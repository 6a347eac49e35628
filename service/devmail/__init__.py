"""The dev mailbox at /dev/mail: what signoff would have sent, for trying it without a relay.

Registered only when outbound mail is `dev`.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

from flask import Blueprint, Response, abort, render_template
from markupsafe import Markup, escape

from ..context import db
from ..store import devmail

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")

URL_PATTERN = re.compile(r"https?://[^\s<>\"']+")


@bp.get("/")
def inbox() -> str:
    return render_template("devmail/inbox.html", title="Dev mailbox", mails=devmail.latest(db()))


@bp.get("/<int:mail_id>")
def show(mail_id: int) -> str:
    message = _message(mail_id)
    text_part = message.get_body(preferencelist=("plain",))
    text = text_part.get_content() if text_part is not None else ""
    return render_template(
        "devmail/message.html",
        title=str(message["Subject"]),
        mail_id=mail_id,
        headers=[(name, str(value)) for name, value in message.items()],
        text=linkify(text),
    )


@bp.get("/<int:mail_id>/html")
def show_html(mail_id: int) -> Response:
    html_part = _message(mail_id).get_body(preferencelist=("html",))
    if html_part is None:
        abort(404, "this message has no HTML part")
    response = Response(html_part.get_content(), mimetype="text/html")
    # Shown as the recipient's mail client would: no scripts, nothing loaded from elsewhere.
    response.headers["Content-Security-Policy"] = (
        "sandbox allow-top-navigation-by-user-activation; default-src 'none'; style-src 'unsafe-inline'"
    )
    return response


def _message(mail_id: int) -> EmailMessage:
    found = devmail.get(db(), mail_id)
    if found is None:
        abort(404, f"no message {mail_id} in the dev mailbox")
    return email.message_from_bytes(found.body, policy=email.policy.default)  # type: ignore[return-value]


def linkify(text: str) -> Markup:
    """Escape `text`, then make its URLs clickable."""
    escaped = str(escape(text))
    # Safe: the text is escaped above, and the links are made of the escaped text.
    linked = URL_PATTERN.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped)
    return Markup(linked)  # noqa: S704
