"""How values an agent sends are shown to a person: readable, bounded, and header-safe."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

SUBJECT_MAX_LENGTH = 200
QUESTION_SUBJECT_WORDS = 12
# An email shows this much of each argument and of all of them together; the page shows all.
EMAIL_VALUE_CHARS = 2_000
EMAIL_ARGUMENTS_CHARS = 6_000
TEXT_WIDTH = 76
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# A References chain keeps the newest ids; mail clients need only a few to thread.
MAX_REFERENCES = 20


def header_safe(value: str) -> str:
    """One line, no control characters, bounded: nothing an agent sends can add a header."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return cleaned[:SUBJECT_MAX_LENGTH]


def thread_ids(*values: str | None) -> str:
    """A value for In-Reply-To or References: the well-formed ids found, newest kept, never cut mid-id.

    Text with no `<id>` in it (an agent may send a bare id) is kept as one safe line instead.
    """
    text = " ".join(value for value in values if value)
    found = list(dict.fromkeys(MESSAGE_ID.findall(text)))
    if not found:
        return header_safe(text)
    return " ".join(found[-MAX_REFERENCES:])


def readable_value(value: Any) -> str:
    """Strings as they are; anything else as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def arguments_for_email(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, shown value) pairs, cut to what an email should carry, each cut said so."""
    shown: list[tuple[str, str]] = []
    budget = EMAIL_ARGUMENTS_CHARS
    for name, value in kwargs.items():
        text = readable_value(value)
        limit = max(0, min(EMAIL_VALUE_CHARS, budget))
        budget -= min(len(text), limit)
        shown.append((name, _cut(text, limit)))
    return shown


def arguments_for_page(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, readable_value(value)) for name, value in kwargs.items()]


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... ({len(text) - limit} more characters: open the link to see everything)"


def fold(text: str, width: int = TEXT_WIDTH) -> str:
    """Wrap long lines for plain-text mail, keeping each line's indentation."""
    lines = []
    for line in text.splitlines() or [""]:
        indent = line[: len(line) - len(line.lstrip())]
        wrapped = textwrap.wrap(
            line,
            width=width,
            subsequent_indent=indent + "  ",
            break_long_words=True,
            break_on_hyphens=False,
            drop_whitespace=False,
        )
        lines.extend(wrapped or [""])
    return "\n".join(lines)


def question_subject(message: str) -> str:
    words = message.split()
    subject = " ".join(words[:QUESTION_SUBJECT_WORDS])
    if len(words) > QUESTION_SUBJECT_WORDS:
        subject += " ..."
    return f"Question: {subject}"
