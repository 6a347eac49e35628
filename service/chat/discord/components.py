"""What a request looks like in Discord: the message with its buttons, the modals, the outcome.

Everything the agent sent goes through `markdown.escape`, and every message is sent with
`allowed_mentions: {"parse": []}`, so nothing in a request can ping anyone. Buttons carry
only what they do (`custom_id`); which request they belong to is looked up from the message
Discord says was clicked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...mail_out.presenting import readable_value
from ...store.models import FUNCTION_CALL, HumanRequest
from .markdown import cut_escaped, escape, escaped_within

NO_MENTIONS = {"parse": []}
ACTION_ROW, BUTTON, TEXT_INPUT, LABEL = 1, 2, 4, 18
PRIMARY, SECONDARY, SUCCESS, DANGER = 1, 2, 3, 4
PARAGRAPH = 2
EPHEMERAL = 64
# Discord's limits: 5 rows of 5 buttons, labels of 80 characters, modal titles and field
# labels of 45, 4096 characters of embed description, 1024 per embed field.
ROW_SIZE = 5
MAX_OPTION_BUTTONS = 4 * ROW_SIZE
BUTTON_LABEL_CHARS = 80
MODAL_TITLE_CHARS = 45
DESCRIPTION_CHARS = 3500
FIELD_CHARS = 1000
MAX_TEXT_CHARS = 4000

PREFIX = "signoff:"
APPROVE, REJECT, ANSWER, OPTION = "approve", "reject", "answer", "option"
TEXT_FIELD = "text"


@dataclass(frozen=True)
class Action:
    """What a button or modal does, read from its custom_id: approve, reject, answer, or option `index`."""

    verb: str
    index: int | None = None

    @property
    def custom_id(self) -> str:
        return PREFIX + self.verb + ("" if self.index is None else f":{self.index}")

    @classmethod
    def parse(cls, custom_id: object) -> Action | None:
        if not isinstance(custom_id, str) or not custom_id.startswith(PREFIX):
            return None
        verb, _, index = custom_id.removeprefix(PREFIX).partition(":")
        if verb in (APPROVE, REJECT, ANSWER) and not index:
            return cls(verb)
        if verb == OPTION and index.isdigit():
            return cls(verb, int(index))
        return None


def request_message(request: HumanRequest) -> dict[str, Any]:
    """The message asking the request's question, with its buttons."""
    return {
        "content": _headline(request),
        "embeds": [_question_embed(request)],
        "components": _button_rows(request),
        "allowed_mentions": NO_MENTIONS,
    }


def outcome_message(request: HumanRequest) -> dict[str, Any]:
    """The message once the request is closed: how it ended and who decided, no buttons left."""
    embed = _question_embed(request)
    said = request.comment if request.kind == FUNCTION_CALL else request.response
    if said:
        name = "Comment" if request.kind == FUNCTION_CALL else "Answer"
        embed["fields"] = [{"name": name, "value": escaped_within(said, FIELD_CHARS)}]
    return {
        "content": outcome_sentence(request),
        "embeds": [embed],
        "components": [],
        "allowed_mentions": NO_MENTIONS,
    }


def outcome_sentence(request: HumanRequest) -> str:
    who = escape(request.decided_by or "someone")
    if request.withdrawn:
        return f"**Withdrawn** by {who}."
    if request.timed_out and request.kind == FUNCTION_CALL:
        outcome = "approved" if request.approved else "rejected"
        return f"**No one decided in time**: {outcome}, as the request said it would be."
    if request.timed_out:
        return "**No one answered in time.**"
    if request.kind != FUNCTION_CALL:
        return f"**Answered** by {who}."
    if request.approved:
        return f"**Approved** by {who}."
    option = _option_named(request, request.option_name)
    reason = f" ({escape(_option_label(option))})" if option else ""
    return f"**Rejected** by {who}{reason}."


def modal(request: HumanRequest, action: Action) -> dict[str, Any]:
    """The form a Reject or Answer button opens: one required paragraph."""
    if action.verb == REJECT:
        title, label = f"Reject {request.spec['fn']}", "Why not? The agent reads this."
    else:
        title, label = "Answer the question", "Your answer"
    field = {
        "type": TEXT_INPUT,
        "custom_id": TEXT_FIELD,
        "style": PARAGRAPH,
        "required": True,
        "max_length": MAX_TEXT_CHARS,
    }
    return {
        "custom_id": action.custom_id,
        "title": _shorten(title, MODAL_TITLE_CHARS),
        "components": [{"type": LABEL, "label": label, "component": field}],
    }


def ephemeral(text: str) -> dict[str, Any]:
    """An answer only the person who clicked sees."""
    return {"content": text, "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS}


def option_at(request: HumanRequest, index: int | None) -> dict[str, Any] | None:
    options = request.options
    return options[index] if index is not None and index < len(options) else None


def _headline(request: HumanRequest) -> str:
    if request.kind == FUNCTION_CALL:
        return f"Approval requested: **{escaped_within(request.spec['fn'], 200)}**"
    subject = request.spec.get("subject")
    return f"**{escaped_within(subject, 200)}**" if subject else "**A question for you**"


def _question_embed(request: HumanRequest) -> dict[str, Any]:
    # Embed titles are left to plain words of ours: what the agent sent goes where markdown
    # (and so its escaping) is sure to apply, the content and the description.
    if request.kind == FUNCTION_CALL:
        title = "With these arguments"
        description = "\n".join(
            f"**{escape(name)}**: {escape(readable_value(value))}"
            for name, value in request.spec["kwargs"].items()
        )
        description = description or "(no arguments)"
    else:
        title, description = "Question", escape(request.spec["msg"])
    embed = {"title": title, "description": cut_escaped(description, DESCRIPTION_CHARS)}
    embed["footer"] = {"text": f"signoff request #{request.id}, run {request.run_id}"[:200]}
    return embed


def _button_rows(request: HumanRequest) -> list[dict[str, Any]]:
    if request.kind == FUNCTION_CALL:
        first = [_button("Approve", SUCCESS, Action(APPROVE)), _button("Reject", DANGER, Action(REJECT))]
    else:
        first = [_button("Answer", PRIMARY, Action(ANSWER))]
    options = [
        _button(_option_label(option), SECONDARY, Action(OPTION, index))
        for index, option in enumerate(request.options[:MAX_OPTION_BUTTONS])
    ]
    rows = [first] + [options[start : start + ROW_SIZE] for start in range(0, len(options), ROW_SIZE)]
    return [{"type": ACTION_ROW, "components": row} for row in rows]


def _button(label: str, style: int, action: Action) -> dict[str, Any]:
    return {
        "type": BUTTON,
        "style": style,
        "label": _shorten(label, BUTTON_LABEL_CHARS),
        "custom_id": action.custom_id,
    }


def _option_label(option: dict[str, Any]) -> str:
    return option.get("title") or option["name"]


def _option_named(request: HumanRequest, name: str | None) -> dict[str, Any] | None:
    return next((option for option in request.options if option["name"] == name), None)


def _shorten(text: str, limit: int) -> str:
    # Button labels and modal titles are plain text: no markdown to escape, only a length.
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
