"""The text of an email's body: its plain-text part, or its HTML rendered as text.

Decoding never fails on odd mail: unknown or broken charsets fall back to UTF-8 with
replacement characters, `format=flowed` text is unwrapped, and HTML becomes lines of text
with quoted blocks marked `> ` so the reply rules can see them.
"""

from __future__ import annotations

import re
from email.errors import MessageError
from email.message import EmailMessage, Message
from html.parser import HTMLParser


def message_text(message: EmailMessage) -> str:
    """Return the body text of ``message``: its text/plain part, else its HTML as text.

    Raises MessageError when the stdlib cannot find its way through the parts.
    """
    try:
        body = message.get_body(preferencelist=("plain", "html"))
    except AttributeError as exc:
        # CPython's get_body treats a nested multipart/related whose boundary is missing (so
        # its payload is one string) as if it held parts, and fails on the first character.
        raise MessageError(f"cannot find the body among the parts: {exc}") from exc
    if body is None:
        return ""
    text = _decoded_payload(body)
    if body.get_content_subtype() == "html":
        return html_to_text(text)
    if str(body.get_param("format") or "").lower() == "flowed":
        return _unflowed(text, delete_space=str(body.get_param("delsp") or "").lower() == "yes")
    return text


def _decoded_payload(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except (LookupError, ValueError):
        # Unknown, misspelled or non-text charsets ("x-unknown", "base64"):
        # a best-effort reading beats dropping the reply.
        text = data.decode("utf-8", errors="replace")
    # No one types a NUL, and the answer is stored as text (PostgreSQL's cannot hold one).
    return text.replace("\x00", "")


def _unflowed(text: str, *, delete_space: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676), keeping quote levels apart."""
    lines: list[str] = []
    continues, previous_depth = False, 0
    for raw in text.replace("\r\n", "\n").split("\n"):
        depth = len(raw) - len(raw.lstrip(">"))
        content = raw[depth:].removeprefix(" ")  # quote marks, then space-stuffing
        soft_break = content.endswith(" ") and content != "-- "
        if soft_break and delete_space:
            content = content[:-1]
        if continues and depth == previous_depth:
            lines[-1] += content
        else:
            lines.append(">" * depth + (" " if depth and content else "") + content)
        continues, previous_depth = soft_break, depth
    return "\n".join(lines)


# --- HTML to text --------------------------------------------------------------------------

_HIDDEN_TAGS = frozenset({"script", "style", "title"})
# Explicitly marked attributions and signatures; "yahoo_quoted" comes with a random prefix.
_HIDDEN_CLASSES = frozenset(
    {"gmail_attr", "gmail_signature", "moz-cite-prefix", "moz-signature", "protonmail_signature_block"}
)
_HIDDEN_CLASS_SUFFIXES = ("yahoo_quoted",)
# Outlook writes these before the original, which then follows as sibling elements (or
# inside), so everything from them on is the quote.
_QUOTE_FOLLOWS_IDS = frozenset({"divRplyFwdMsg", "appendonsend", "mail-editor-reference-message-container"})
# fmt: off
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "footer", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)
# fmt: on
_CELL_TAGS = frozenset({"td", "th"})
# Never closed, so never hidden: hiding one would hide the rest of the message.
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_HTML_SPACE = re.compile(r"[ \t\r\n\f]+")  # not \s: a non-breaking space is content


class _TextRenderer(HTMLParser):
    """Renders HTML as a text mail client would: blocks on their own lines, quotes as "> " lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.depths: list[int] = [0]
        self.quote_depth = 0
        self.in_pre = 0
        self.hidden_tag: str | None = None
        self.hidden_depth = 0
        self.stopped = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if self.hidden_tag is not None:
            self.hidden_depth += tag == self.hidden_tag
            return
        attributes = {name: value or "" for name, value in attrs}
        if attributes.get("id") in _QUOTE_FOLLOWS_IDS:
            self.stopped = True
        elif _hides_its_content(tag, attributes):
            self.hidden_tag, self.hidden_depth = tag, 1
        elif tag == "br":
            self._new_line()
        elif tag == "blockquote":
            self._set_quote_depth(self.quote_depth + 1)
        elif tag in _BLOCK_TAGS:
            self._end_line()
            self.in_pre += tag == "pre"
        elif tag in _CELL_TAGS and self.lines[-1].strip():
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self.hidden_tag is not None:
            self.hidden_depth -= tag == self.hidden_tag
            if self.hidden_depth == 0:
                self.hidden_tag = None
                self._end_line()
        elif tag == "blockquote":
            self._set_quote_depth(max(self.quote_depth - 1, 0))
        elif tag in _BLOCK_TAGS:
            self._end_line()
            self.in_pre -= tag == "pre" and self.in_pre > 0

    def handle_data(self, data: str) -> None:
        if self.stopped or self.hidden_tag is not None:
            return
        if not self.in_pre:
            self.lines[-1] += _HTML_SPACE.sub(" ", data)
            return
        first, *rest = data.split("\n")
        self.lines[-1] += first
        for line in rest:
            self._new_line()
            self.lines[-1] += line

    def text(self) -> str:
        rendered = []
        for line, depth in zip(self.lines, self.depths, strict=True):
            content = line.replace("\xa0", " ").strip()
            rendered.append((">" * depth + " " + content).rstrip() if depth else content)
        return re.sub(r"\n{3,}", "\n\n", "\n".join(rendered)).strip("\n")

    def _new_line(self) -> None:
        self.lines.append("")
        self.depths.append(self.quote_depth)

    def _end_line(self) -> None:
        if _HTML_SPACE.sub("", self.lines[-1]):
            self._new_line()

    def _set_quote_depth(self, depth: int) -> None:
        self._end_line()
        self.quote_depth = depth
        self.lines[-1] = ""
        self.depths[-1] = depth


def _hides_its_content(tag: str, attributes: dict[str, str]) -> bool:
    classes = attributes.get("class", "").split()
    return tag not in _VOID_TAGS and (
        tag in _HIDDEN_TAGS
        or any(name in _HIDDEN_CLASSES for name in classes)
        or any(name.endswith(_HIDDEN_CLASS_SUFFIXES) for name in classes)
    )


def html_to_text(html: str) -> str:
    """Render HTML as plain text: quoted blocks become "> " lines; scripts, styles, marked
    attributions and signatures, and Outlook's trailing original are left out."""
    renderer = _TextRenderer()
    renderer.feed(html)
    renderer.close()
    return renderer.text()
