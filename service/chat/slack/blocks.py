"""How a request looks in Slack: Block Kit blocks for the question, the buttons and the outcome.

Everything a request carries is escaped for Slack's mrkdwn (`&`, `<`, `>`), so an argument
cannot mention `<!channel>`, link elsewhere, or pass for our own text. Slack caps a message at
50 blocks and a section's text at 3,000 characters: longer values are cut, and say so.
"""

from __future__ import annotations

import re
from typing import Any

from ...mail_out.presenting import readable_value
from ...store.models import FUNCTION_CALL, HumanRequest

Block = dict[str, Any]

APPROVE = "approve"
REJECT = "reject"
ANSWER = "answer"
OPTION_PREFIX = "option:"
ACTIONS_BLOCK = "decide"

SECTION_CHARS = 3_000
BUTTON_CHARS = 75
MAX_ARGUMENTS = 20
MAX_QUESTION_SECTIONS = 10
# One actions block holds 25 elements: Approve and Reject (or Answer) take their places first.
MAX_OPTION_BUTTONS = 23
FALLBACK_CHARS = 300
MODAL_INPUT_BLOCK = "text"
MODAL_INPUT = "text"
MODAL_LABEL_CHARS = 2_000
MAX_MODAL_TEXT = 3_000
SLACK_USER = re.compile(r"^slack:([A-Z0-9]+)")
# How the other channels read after "by someone (...)".
VIA_NAMES = {"link": "email link", "email": "email reply", "api": "API", "discord": "Discord"}


def escape(text: str) -> str:
    """Text as Slack's mrkdwn shows it literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def question_blocks(request: HumanRequest, in_thread: bool) -> tuple[list[Block], str]:
    """The message asking the request's question, with its buttons; and its notification text."""
    if request.kind == FUNCTION_CALL:
        return [*_function_call(request), *_decision_buttons(request)], _fallback("Approval needed", request)
    hint = "Use *Answer* to reply." if in_thread else "Reply in this message's thread, or use *Answer*."
    blocks = [*_question(request), *_answer_buttons(request), _context(hint)]
    return blocks, _fallback("A question for you", request)


def outcome_blocks(request: HumanRequest) -> tuple[list[Block], str]:
    """The message once the request is closed: what was asked, how it ended and who ended it."""
    asked = _function_call(request) if request.kind == FUNCTION_CALL else _question(request)
    headline, details = _outcome(request)
    text = f"{headline}\n{details}" if details else headline
    return [*asked, _section(text)], _fallback(headline, request)


def modal_view(action: str, request: HumanRequest, private_metadata: str) -> Block:
    """The form Reject or Answer opens: one text box, required, for the comment or the answer."""
    if action == REJECT:
        title, label, submit = "Reject", f"Why reject {request.spec['fn']}?", "Reject"
    else:
        title, label, submit = "Answer", request.spec.get("subject") or "Your answer", "Send"
    return {
        "type": "modal",
        "callback_id": action,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": MODAL_INPUT_BLOCK,
                "label": {"type": "plain_text", "text": label[:MODAL_LABEL_CHARS]},
                "element": {
                    "type": "plain_text_input",
                    "action_id": MODAL_INPUT,
                    "multiline": True,
                    "max_length": MAX_MODAL_TEXT,
                },
            }
        ],
    }


def decided_by(request: HumanRequest) -> str:
    """Who closed the request, as mrkdwn: a Slack user as their mention, anyone else by name."""
    who, via = request.decided_by or "someone", request.decided_via or ""
    found = SLACK_USER.match(who)
    if found:
        return f"<@{found.group(1)}>"
    via = VIA_NAMES.get(via, via)
    return f"the {escape(via)}" if who == request.decided_via else f"{escape(who)} ({escape(via)})"


def _function_call(request: HumanRequest) -> list[Block]:
    kwargs: dict[str, Any] = request.spec.get("kwargs") or {}
    blocks = [_section(f"*Approval needed* to run `{escape(request.spec['fn'])}`")]
    for name, value in list(kwargs.items())[:MAX_ARGUMENTS]:
        label = f"*{escape(name)}*\n"
        blocks.append(_section(label + _code(readable_value(value), SECTION_CHARS - len(label))))
    if len(kwargs) > MAX_ARGUMENTS:
        blocks.append(_context(f"... and {len(kwargs) - MAX_ARGUMENTS} more arguments, not shown here"))
    return blocks


def _question(request: HumanRequest) -> list[Block]:
    subject = request.spec.get("subject")
    text = escape(request.spec["msg"])
    if subject:
        text = f"*{escape(subject)}*\n{text}"
    sections = [text[start : start + SECTION_CHARS] for start in range(0, len(text), SECTION_CHARS)]
    blocks = [_section(part) for part in sections[:MAX_QUESTION_SECTIONS]]
    if len(sections) > MAX_QUESTION_SECTIONS:
        blocks.append(_context("... the rest of the question is too long to show here"))
    return blocks


def _decision_buttons(request: HumanRequest) -> list[Block]:
    buttons = [
        _button("Approve", APPROVE, style="primary"),
        _button("Reject", REJECT, style="danger"),
        *_option_buttons(request),
    ]
    return [{"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons}, *_option_notes(request)]


def _answer_buttons(request: HumanRequest) -> list[Block]:
    buttons = [*_option_buttons(request), _button("Answer", ANSWER)]
    return [{"type": "actions", "block_id": ACTIONS_BLOCK, "elements": buttons}, *_option_notes(request)]


def _option_buttons(request: HumanRequest) -> list[Block]:
    return [
        _button(option.get("title") or option["name"], f"{OPTION_PREFIX}{index}")
        for index, option in enumerate(request.options[:MAX_OPTION_BUTTONS])
    ]


def _option_notes(request: HumanRequest) -> list[Block]:
    described = [
        f"*{escape(option.get('title') or option['name'])}*: {escape(option['description'])}"
        for option in request.options[:MAX_OPTION_BUTTONS]
        if option.get("description")
    ]
    notes = [_context("\n".join(described)[:SECTION_CHARS])] if described else []
    if len(request.options) > MAX_OPTION_BUTTONS:
        notes.append(_context(f"{len(request.options) - MAX_OPTION_BUTTONS} more options are not shown here"))
    return notes


def _outcome(request: HumanRequest) -> tuple[str, str]:
    """A headline (what happened, by whom) and the person's words, quoted."""
    if request.withdrawn:
        return f":no_entry_sign: *Withdrawn* by {decided_by(request)}", ""
    if request.kind != FUNCTION_CALL:
        if request.timed_out:
            return ":hourglass: *No one answered in time*", ""
        return f":speech_balloon: *Answered* by {decided_by(request)}", _quote(request.response or "")
    if request.timed_out:
        outcome = "approved" if request.approved else "rejected"
        return f":hourglass: *No one responded in time*, so it was {outcome}", ""
    verdict = ":white_check_mark: *Approved*" if request.approved else ":x: *Rejected*"
    return f"{verdict} by {decided_by(request)}", _quote(request.comment or "")


def _quote(text: str) -> str:
    lines = escape(text[: SECTION_CHARS - 200]).splitlines()
    return "\n".join(f">{line}" for line in lines)


def _code(text: str, room: int) -> str:
    escaped = escape(text)
    limit = room - 60
    if len(escaped) > limit:
        escaped = f"{escaped[:limit]}\n... ({len(escaped) - limit} more characters)"
    # A value's own fence would end the block early; a zero-width space keeps it inside.
    return "```" + escaped.replace("```", "`\u200b``") + "```"


def _fallback(headline: str, request: HumanRequest) -> str:
    """The message's plain `text`: what notifications and screen readers show."""
    about = (
        request.spec["fn"]
        if request.kind == FUNCTION_CALL
        else request.spec.get("subject") or request.spec["msg"]
    )
    return f"{headline}: {escape(about[:FALLBACK_CHARS])}"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(label: str, action_id: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label[:BUTTON_CHARS], "emoji": True},
        "value": action_id,
    }
    if style:
        button["style"] = style
    return button
