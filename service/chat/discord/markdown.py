"""Text an agent sent, made to show as itself in Discord: no markdown, no mentions, no masked links."""

from __future__ import annotations

import re

# Marks that format wherever they appear: bold, italics, underline, strikethrough, spoilers,
# code, masked links ([text](url)), and <...> for mentions, channels, emoji and timestamps.
_INLINE = re.compile(r"([\\*_~|`\[\]<])")
# Marks that format only at the start of a line: headings, subtext, lists, quotes.
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+\.)", re.MULTILINE)
ZERO_WIDTH_SPACE = "\u200b"
CUT_NOTE = " … (cut: the dashboard shows all of it)"


def escape(text: str) -> str:
    """`text` as Discord should show it, character for character.

    Messages are also sent with no mentions allowed, so nobody is pinged either way; the
    zero-width space after each @ keeps "@everyone" from even looking like a mention.
    """
    escaped = _INLINE.sub(r"\\\1", text)
    escaped = _LINE_START.sub(_escape_line_start, escaped)
    return escaped.replace("@", "@" + ZERO_WIDTH_SPACE)


def escaped_within(text: str, limit: int) -> str:
    """`escape(text)`, cut to `limit` characters (saying so) if it is longer."""
    return cut_escaped(escape(text), limit)


def cut_escaped(escaped: str, limit: int) -> str:
    """Escaped text cut to `limit` characters, saying so, without breaking an escape."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - len(CUT_NOTE))]
    # A lone backslash left at the end would escape the note's first character instead.
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]
    return cut + CUT_NOTE


def _escape_line_start(found: re.Match[str]) -> str:
    indent, mark = found.group(1), found.group(2)
    if mark[-1] == ".":
        return f"{indent}{mark[:-1]}\\."
    return f"{indent}\\{mark}"
