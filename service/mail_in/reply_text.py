"""Pull out what a person actually wrote in an email reply.

A reply usually carries far more than the answer: the quoted original, an
attribution line, a signature and a "Sent from my phone" footer. This module
finds the message body (plain text preferred, HTML converted when that is all
there is) and cuts it down to the person's own words, so the decision reader
only ever looks at fresh text.
"""

from __future__ import annotations

import re
from email.message import EmailMessage, Message
from html.parser import HTMLParser

# --- Patterns (issue #3 extends these for more languages and clients) -------

# Attribution lines that introduce a quoted original. Each pattern is matched
# against one stripped line, or two consecutive lines joined by a space,
# because Gmail wraps long attributions.
ATTRIBUTION_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"On\s.{1,250}\swrote:"),  # English (Gmail, Apple Mail, Thunderbird)
    re.compile(r"Am\s.{1,250}\sschrieb\s.{0,250}:"),  # German
    re.compile(r"Le\s.{1,250}\sa\s+écrit\s*:"),  # French
    re.compile(r"El\s.{1,250}\sescribió\s*:"),  # Spanish
)

# Separator lines some clients put above the forwarded/replied original.
ORIGINAL_MESSAGE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"-{2,}\s*Ursprüngliche Nachricht\s*-{2,}", re.IGNORECASE),
    re.compile(r"-{2,}\s*Message d'origine\s*-{2,}", re.IGNORECASE),
    re.compile(r"-{2,}\s*Mensaje original\s*-{2,}", re.IGNORECASE),
)

# Header labels of the block Outlook writes above the original:
# "From:" then, within a few lines, "Sent:"/"Date:" and "To:"/"Subject:".
HEADER_FROM_LABELS: tuple[str, ...] = ("From", "Von", "De", "Van")
HEADER_DATE_LABELS: tuple[str, ...] = ("Sent", "Date", "Gesendet", "Datum", "Envoyé", "Enviado", "Fecha")
HEADER_TO_LABELS: tuple[str, ...] = ("To", "Subject", "An", "Betreff", "À", "Objet", "Para", "Asunto")
HEADER_BLOCK_WINDOW = 5

# Outlook web draws a line of underscores above the "From:" header block.
UNDERSCORE_SEPARATOR = re.compile(r"_{10,}")

# Footers mobile and desktop mail apps append below the person's text.
MOBILE_FOOTER_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"Sent from my [\w .,'\u2019()-]{1,60}", re.IGNORECASE),
    re.compile(r"Get Outlook for (iOS|Android)\s*(<[^>]*>)?", re.IGNORECASE),
    re.compile(r"Sent from (Windows )?Mail\s*(<[^>]*>)?\s*for Windows( \d+)?", re.IGNORECASE),
    re.compile(r"Von meinem [\w .,'\u2019()-]{1,60} gesendet", re.IGNORECASE),
)

SIGNATURE_DELIMITER = "--"


# --- Finding the body --------------------------------------------------------


def message_text(message: EmailMessage) -> str:
    """Return the body text of ``message``: its text/plain part, else its HTML as text."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _decoded_payload(body)
    if body.get_content_subtype() == "html":
        return html_to_text(text)
    return text


def _decoded_payload(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):
        # Unknown, misspelled or non-text charsets ("x-unknown", "base64"):
        # a best-effort reading beats dropping the reply.
        return data.decode("utf-8", errors="replace")


# --- HTML to text ------------------------------------------------------------

_HIDDEN_TAGS = frozenset({"script", "style", "title"})
_QUOTE_TAGS = frozenset({"blockquote"})
_QUOTE_CLASSES = frozenset({"gmail_quote"})
# Outlook puts these empty or header-only divs *before* the original, which
# then follows as sibling elements, so everything after them is the quote.
_QUOTE_FOLLOWS_IDS = frozenset({"divRplyFwdMsg", "appendonsend"})
# fmt: off
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "footer", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)
# fmt: on
_CELL_TAGS = frozenset({"td", "th"})


class _TextExtractor(HTMLParser):
    """Collects visible, non-quoted text with line breaks at block boundaries."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.skipped_tag: str | None = None
        self.skip_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if self.skipped_tag is not None:
            if tag == self.skipped_tag:
                self.skip_depth += 1
            return
        attributes = {name: value or "" for name, value in attrs}
        if attributes.get("id") in _QUOTE_FOLLOWS_IDS:
            self.stopped = True
            return
        if _hides_its_content(tag, attributes):
            self.skipped_tag, self.skip_depth = tag, 1
            return
        if tag == "br":
            self.lines.append("")
        elif tag in _BLOCK_TAGS:
            self._end_line()
        elif tag in _CELL_TAGS and self.lines[-1]:
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self.skipped_tag is not None:
            if tag == self.skipped_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skipped_tag = None
                    self._end_line()
            return
        if tag in _BLOCK_TAGS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self.stopped or self.skipped_tag is not None:
            return
        self.lines[-1] += re.sub(r"[ \t\r\n\f]+", " ", data)

    def _end_line(self) -> None:
        if self.lines[-1].strip():
            self.lines.append("")


def _hides_its_content(tag: str, attributes: dict[str, str]) -> bool:
    classes = set(attributes.get("class", "").split())
    return tag in _HIDDEN_TAGS or tag in _QUOTE_TAGS or bool(_QUOTE_CLASSES & classes)


def html_to_text(html: str) -> str:
    """Render HTML as plain text, leaving out scripts, styles and quoted originals."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = [line.replace("\xa0", " ").strip() for line in extractor.lines]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# --- Cutting quotes and signatures ---------------------------------------------


def strip_quoted_and_signature(text: str) -> str:
    """Keep only the person's own words: drop the quoted original, signature and footers."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    quote_start = _quote_start(lines)
    if quote_start is None:
        return _joined(_without_signature(lines))
    written_above = _without_signature(lines[:quote_start])
    if any(written_above):
        return _joined(written_above)
    return _joined(_without_signature(_written_below_quote(lines[quote_start:])))


def reply_text(message: EmailMessage) -> str:
    """Return what the person wrote in ``message``, without quotes or signature."""
    return strip_quoted_and_signature(message_text(message))


def _quote_start(lines: list[str]) -> int | None:
    for index in range(len(lines)):
        if (
            _is_quoted(lines[index])
            or _attribution_length(lines, index)
            or _is_original_message_separator(lines[index])
            or _is_header_block(lines, index)
            or _is_underscore_separator(lines, index)
        ):
            return index
    return None


def _written_below_quote(lines: list[str]) -> list[str]:
    """The person's lines after a ">"-quoted original (bottom-posted or inline replies)."""
    if not (_is_quoted(lines[0]) or _attribution_length(lines, 0)):
        # An unquoted original (Outlook style) cannot be told apart from new text.
        return []
    written: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if (
            _is_original_message_separator(line)
            or _is_header_block(lines, index)
            or _is_underscore_separator(lines, index)
        ):
            break
        attribution_length = _attribution_length(lines, index)
        if attribution_length:
            index += attribution_length
            continue
        # A skipped quote block leaves blank lines on both sides; keep one.
        if not _is_quoted(line) and (line or (written and written[-1])):
            written.append(line)
        index += 1
    return written


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) the attribution starting at ``index`` spans; 0 if none."""
    line = lines[index].strip()
    if not line:
        return 0
    if _is_attribution(line):
        return 1
    if index + 1 >= len(lines):
        return 0
    next_line = lines[index + 1].strip()
    if not next_line or _is_attribution(next_line):
        return 0
    return 2 if _is_attribution(f"{line} {next_line}") else 0


def _is_attribution(text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in ATTRIBUTION_PATTERNS)


def _is_original_message_separator(line: str) -> bool:
    return any(pattern.fullmatch(line.strip()) for pattern in ORIGINAL_MESSAGE_PATTERNS)


def _has_header_label(line: str, labels: tuple[str, ...]) -> bool:
    # Clients that render bold headers as plain text write "*From:*".
    label = "|".join(re.escape(label) for label in labels)
    return re.match(rf"\*?(?:{label})\s*:", line.strip(), re.IGNORECASE) is not None


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _has_header_label(lines[index], HEADER_FROM_LABELS):
        return False
    following = lines[index + 1 : index + 1 + HEADER_BLOCK_WINDOW]
    return any(_has_header_label(line, HEADER_DATE_LABELS) for line in following) and any(
        _has_header_label(line, HEADER_TO_LABELS) for line in following
    )


def _is_underscore_separator(lines: list[str], index: int) -> bool:
    if not UNDERSCORE_SEPARATOR.fullmatch(lines[index].strip()):
        return False
    following = [line for line in lines[index + 1 : index + 3] if line.strip()]
    return bool(following) and _has_header_label(following[0], HEADER_FROM_LABELS)


def _without_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == SIGNATURE_DELIMITER or any(
            pattern.fullmatch(stripped) for pattern in MOBILE_FOOTER_PATTERNS
        ):
            return lines[:index]
    return lines


def _joined(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n")
