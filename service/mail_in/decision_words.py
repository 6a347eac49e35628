"""Read an approve/reject decision from the text of an email reply.

Only a clear "yes" on the first line approves. Anything unclear rejects,
because approving by mistake is far more costly than asking again.
"""

from __future__ import annotations

import re

APPROVE_WORDS: tuple[str, ...] = ("approve", "approved", "yes", "y", "lgtm", "ok", "okay", "👍")
REJECT_WORDS: tuple[str, ...] = ("reject", "rejected", "no", "deny", "denied", "n")

# Punctuation that may end a bare decision word ("Approved!", "No.").
TRAILING_PUNCTUATION = "!."

# Skin tones and the emoji variation selector, so "👍🏽" reads as "👍".
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def _word_alternation(words: tuple[str, ...]) -> str:
    # Longest first, so "okay" is not read as "ok" followed by "ay".
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_BARE_APPROVAL = re.compile(
    rf"(?:{_word_alternation(APPROVE_WORDS)})[{TRAILING_PUNCTUATION}]*", re.IGNORECASE
)
# A single comma or period, or a dash followed by a space, then the comment.
# One character only, so "Yes... actually no" does not approve.
_APPROVAL_WITH_COMMENT = re.compile(
    rf"(?:{_word_alternation(APPROVE_WORDS)})(?:\s*[,.]|\s*[-\u2013\u2014]+\s)\s*(?P<comment>[^\s.,].*)",
    re.IGNORECASE,
)
_REJECTION = re.compile(
    rf"(?:{_word_alternation(REJECT_WORDS)})(?:[\s,.;:!\-\u2013\u2014]+(?P<comment>.*))?", re.IGNORECASE
)


def read_decision(text: str) -> tuple[bool, str]:
    """Return ``(approved, comment)`` for the person's reply text.

    Approves only when the first non-empty line is an approve word, optionally
    with trailing "!"/"." or followed by a comma, period or dash and a comment.
    Everything else rejects; the comment is what follows a reject word, or the
    whole reply when no decision word leads it.
    """
    lines = text.replace("\r\n", "\n").strip().split("\n")
    first_line = _EMOJI_MODIFIERS.sub("", lines[0].strip())
    following = "\n".join(lines[1:])

    if _BARE_APPROVAL.fullmatch(first_line):
        return True, following.strip()
    approval = _APPROVAL_WITH_COMMENT.fullmatch(first_line)
    if approval:
        return True, _comment(approval.group("comment"), following)
    rejection = _REJECTION.fullmatch(first_line)
    if rejection:
        return False, _comment(rejection.group("comment") or "", following)
    return False, text.strip()


def _comment(first_line_rest: str, following: str) -> str:
    return f"{first_line_rest}\n{following}".strip()
