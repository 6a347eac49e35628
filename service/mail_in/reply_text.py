"""Pull out what a person actually wrote in an email reply.

A reply usually carries far more than the answer: the quoted original, an attribution line
("On ... wrote:"), a signature, a sign-off and a "Sent from my phone" footer. This module
cuts the body text (found by `message_body`) down to the person's own words. For inline
replies those are the person's unquoted lines in order, one blank line where a quoted block
was left out. The rules look for structure first (quote marks, a date-and-address line that
ends in a colon, a block of `Key: value` lines, separators) and take the words that structure
is made of from `reply_words`. The rules and the corpus they are measured on are in
docs/reply-parsing.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from . import reply_words as words
from .message_body import message_text

# --- What a line can be ----------------------------------------------------------------------


def _alternatives(phrases: tuple[str, ...] | frozenset[str]) -> str:
    # Longest first, so that "napisał(a)" wins over "napisał".
    return "|".join(re.escape(phrase) for phrase in sorted(phrases, key=len, reverse=True))


def _is_cjk(phrase: str) -> bool:
    return any(ord(char) > 0x2E80 for char in phrase)


_LATIN_WROTE = _alternatives(tuple(word for word in words.WROTE_WORDS if not _is_cjk(word)))
_CJK_WROTE = _alternatives(tuple(word for word in words.WROTE_WORDS if _is_cjk(word)))
_WROTE = rf"(?:(?<!\w)(?:{_LATIN_WROTE})(?!\w)|(?:{_CJK_WROTE}))"
_COLON = r"[:\uff1a]"
# "... wrote:", "... skrev Ana Ruiz <ana@example.org>:", "... schrieb am Di., 9. Juni 2026:".
_ENDS_WITH_WROTE = re.compile(rf".*{_WROTE}(?:\s*{_COLON}|\s.{{0,120}}{_COLON}|\s*)", re.IGNORECASE)
_OPENER = re.compile(rf"(?:{_alternatives(words.ATTRIBUTION_OPENERS)})\s", re.IGNORECASE)
# A weekday or a few words may stand before the date: "tir. 9. jun.", "суббота, 6 июня", "2026-06-09".
_DATE_FIRST = re.compile(r"(?:[^\W\d_]{1,12}\.?,?\s+){0,3}\d")
_NAME = r"[^\W\d_][^\W\d_'’.-]*(?:[ '’.-]{1,2}[^\W\d_][^\W\d_'’.-]*){0,4}"
_NAME_AND_ADDRESS_FIRST = re.compile(rf"[\"“']?{_NAME}[\"”']?,?\s*(?:[<(\[]|$)")
_NAME_THEN_WROTE = re.compile(rf"{_NAME}\s+{_WROTE}", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?:[^\W\d_]{5,}|\d)[.!?]|[!?]")
_ADDRESS_PATTERN = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_ADDRESS = re.compile(_ADDRESS_PATTERN)
_DATE_OR_TIME = re.compile(
    r"(?<!\d)(?:19|20)\d{2}(?!\d)|\d{1,2}[:.h]\d{2}(?!\d)|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\s?[月일日]"
)
_VIA_WROTE = re.compile(rf".{{1,80}}\svia\s.{{1,80}}\s{_WROTE}\s*{_COLON}?", re.IGNORECASE)
_ENDS_WITH_COLON = re.compile(rf".*{_COLON}")
_WRAPPED_ADDRESS_END = re.compile(rf">\s*{_WROTE}\s*{_COLON}?", re.IGNORECASE)
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?!\d)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_ENDS_WITH_ADDRESS = re.compile(rf".*{_ADDRESS_PATTERN}>")
# "---- On <date> <name> wrote ----" (Zoho) and "*On ... wrote:*" (bold rendered as text).
_DECORATION = re.compile(r"^[\s*_=~-]+|[\s*_=~-]+$")

ATTRIBUTION_MAX_LINES = 3  # Gmail wraps long attributions, at times twice
ATTRIBUTION_MAX_LENGTH = 400  # longer stretches are prose; also bounds the regex work
ATTRIBUTION_MAX_WORDS_WITHOUT_DATE = 8  # "Ana Ruiz wrote:" above a quote

_SEPARATOR = re.compile(
    rf"[\s>*]*(?:[-_=]{{2,}}|\*)\s*(?:{_alternatives(words.SEPARATOR_PHRASES)})\s*(?:[-_=]{{2,}}|\*)[\s*]*",
    re.IGNORECASE,
)
_ANY_DASHED_TITLE = re.compile(r"[\s*]*[-_=]{3,}\s*[^-_=]{1,40}?\s*[-_=]{3,}[\s*]*")
_RULE = re.compile(r"[\s*]*(?:-{5,}|_{5,}|={5,})[\s*]*")
_FORWARD_INTRO = re.compile(
    rf"[\s*]*(?:{_alternatives(words.FORWARD_INTROS)})\s*{_COLON}?[\s*]*", re.IGNORECASE
)


def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    # Clients that render bold headers as text write "*From:*"; French puts a space before ":".
    # Some layouts put label and value in table cells, which leaves no colon at all.
    return re.compile(
        rf"\*?(?:{_alternatives(labels)})\*?(?:\s*{_COLON}\s*|\t+|\s+(?=\S))(?P<value>.*)", re.IGNORECASE
    )


_HEADER_LABELS = {
    "from": _label_pattern(words.HEADER_FROM_LABELS),
    "date": _label_pattern(words.HEADER_DATE_LABELS),
    "other": _label_pattern(words.HEADER_OTHER_LABELS),
}
_HAS_COLON_AFTER_LABEL = re.compile(rf"\*?[^:\uff1a]{{1,30}}?\*?\s*{_COLON}")
HEADER_BLOCK_MIN_LINES = 3
HEADER_BLOCK_MAX_LINES = 8


# "Sent from my Samsung Galaxy S24", "Sent from my cell, please excuse any typos"; not "Sent
# from my desk, is much easier than my phone", which is a sentence.
_DEVICE_WORD = r"[\w'’()&+/.-]+"
_PLEASE = rf"(?:{_alternatives(words.PLEASE_WORDS)}),?\s+"
_EXCUSE = rf"(?:[,.;!]?\s+(?:{_PLEASE})?(?:{_alternatives(words.EXCUSE_WORDS)}).{{0,60}})"
_DEVICE = rf"{_DEVICE_WORD}(?: {_DEVICE_WORD}){{0,5}}?{_EXCUSE}?"


_APP = rf"(?:{_alternatives(words.MAIL_APPS)})"
_OS = r"(?:iOS|Android|Mac|macOS|Windows(?: 10| 11| Phone)?|iPhone|iPad)"


def _footer_pattern(template: str) -> str:
    escaped = re.escape(template).replace(r"\{device\}", _DEVICE)
    return escaped.replace(r"\{app\}", _APP).replace(r"\{os\}", _OS)


_APP_FOOTER = re.compile("|".join(_footer_pattern(footer) for footer in words.APP_FOOTERS), re.IGNORECASE)
_FOOTER_WRAPPING = re.compile(r"^[\s(<\[*]+|[\s)>\]*.!]+$")
_LINK = re.compile(r"<(?:https?|mailto):[^>]*>|https?://\S+")
_MARKDOWN_LINK = re.compile(r"\[(?P<text>[^\]]{1,80})\]\((?:https?|mailto):[^)\s]*\)")  # Proton Mail
_TRACKING_MARKS = "\u1427\u200b\u200c\u200d\ufeff"  # Gmail's "ᐧ" and zero-width characters

_NAME_SIGNATURE = re.compile(rf"[-—–~]{{1,2}}\s?(?P<name>{_NAME})")
_DELIMITER_ONLY = re.compile(r"[-_=+~#*,.—–]+")
_BULLET = re.compile(r"\s*(?:[-*•–]|\d+[.)])\s")
_MAILING_LIST_MARKER = re.compile(_alternatives(words.MAILING_LIST_MARKERS), re.IGNORECASE)
_DISCLAIMER_MARKER = re.compile(_alternatives(words.DISCLAIMER_MARKERS), re.IGNORECASE)

SIGN_OFF_MAX_LINES = 4  # name, role, company, phone
SIGN_OFF_LINE_LENGTH = 60
SIGNATURE_DELIMITERS = ("--", "-- ")


# --- Cutting quotes and signatures -----------------------------------------------------------


def reply_text(message: EmailMessage) -> str:
    """Return what the person wrote in ``message``, without quotes, signature or footers."""
    return strip_quoted_and_signature(message_text(message))


def strip_quoted_and_signature(text: str) -> str:
    """Keep only the person's own words: drop quoted text, attributions, the unquoted original
    below a header block or separator, the signature, sign-off and footers."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate({ord(c): None for c in _TRACKING_MARKS})
    lines = _unmangled([line.rstrip() for line in text.split("\n")])
    own: list[str] = []
    for run in _own_runs(lines):
        own += ([""] if own else []) + run
    return "\n".join(_without_trailing_extras(_before_signature(own)))


def _own_runs(lines: list[str]) -> list[list[str]]:
    """The person's unquoted stretches of lines, in order, up to where an unquoted original starts."""
    runs: list[list[str]] = [[]]
    index = 0
    while index < len(lines) and not _starts_unquoted_original(lines, index):
        if _SEPARATOR.fullmatch(lines[index].strip()):
            index += 1  # it heads a quoted original (Proton Mail); the attribution under it is next
            continue
        attribution = _attribution_at(lines, index)
        if attribution and not attribution.quote_follows:
            break  # the original follows without ">" marks (Yahoo, Outlook for Mac, Apple Mail)
        if attribution or _is_quoted(lines[index]):
            runs.append([])
            index += attribution.length if attribution else 1
            continue
        runs[-1].append(lines[index])
        index += 1
    trimmed = (_without_trailing_footers(run) for run in runs)
    return [run for run in trimmed if run]


def _unmangled(lines: list[str]) -> list[str]:
    """Lines with the ">" that mbox-storing mail systems put before "From " taken off again.

    Such a ">From " sits among the person's own lines; a quote's lines have quoted neighbours
    (a quote one line long, under an attribution, stays a quote)."""
    unmangled = list(lines)
    for index, line in enumerate(lines):
        if not line.startswith(">From "):
            continue
        before = lines[index - 1] if index else ""
        after = lines[index + 1] if index + 1 < len(lines) else ""
        under_attribution = index > 0 and _attribution_at(lines, index - 1) is not None
        if not _is_quoted(before) and not _is_quoted(after) and not under_attribution:
            unmangled[index] = line[1:]
    return unmangled


def _is_quoted(line: str) -> bool:
    text = line.lstrip()
    # "| " quotes, as some web clients and list archives write them; a table row ends in "|" too.
    return text.startswith(">") or (text.startswith("|") and not text.endswith("|"))


def _quote_follows(lines: list[str], start: int) -> bool:
    following = next((line for line in lines[start:] if line.strip()), "")
    return _is_quoted(following)


# --- Attribution lines -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Attribution:
    length: int  # lines it spans
    quote_follows: bool


def _attribution_at(lines: list[str], index: int) -> _Attribution | None:
    """The attribution that starts at ``index`` and spans 1 to 3 lines, if any.

    One that the original follows without quote marks is taken only when it names a date or
    an address, so that a sentence of the person's ("On Monday I wrote to them:") stays."""
    for length in range(1, ATTRIBUTION_MAX_LINES + 1):
        span = lines[index : index + length]
        if len(span) < length or any(not _may_continue(line, position) for position, line in enumerate(span)):
            return None
        text = _joined(span)
        if len(text) > ATTRIBUTION_MAX_LENGTH or not _starts_like_attribution(text):
            return None
        if length > 1 and not _may_start_wrapped_attribution(span):
            return None
        quote_follows = _quote_follows(lines, index + length)
        if _is_attribution(text, quote_follows):
            return _Attribution(length, quote_follows)
    return None


def _may_start_wrapped_attribution(span: list[str]) -> bool:
    """Whether the first line of ``span`` begins the attribution, rather than being the
    person's last line above one ("Thanks" / "Ana Ruiz <ana@example.org> wrote:")."""
    tail = _joined(span[1:])
    if len(tail.split()) < 3 or not (_starts_like_attribution(tail) and _is_attribution(tail, True)):
        return True
    first = span[0].strip()
    opens = bool(_OPENER.match(first) or _DATE_FIRST.match(first))
    # Name first, then the date, wrapped before the verb: "Ana <ana@example.org>, 18 Haz 2026, 10:12"
    # / "tarihinde şunu yazdı:".
    names_sender = bool(_NAME_AND_ADDRESS_FIRST.match(first) and _ADDRESS.search(first))
    return (opens or names_sender) and not _SENTENCE_END.search(first[-8:])


def _may_continue(line: str, position: int) -> bool:
    # Gmail may wrap "<ana@example.org>" before its ">", leaving a "> wrote:" that looks quoted.
    if position and _WRAPPED_ADDRESS_END.fullmatch(line.strip()):
        return True
    return bool(line.strip()) and not _is_quoted(line)


def _joined(span: list[str]) -> str:
    text = " ".join(
        _DECORATION.sub("", line) if not _WRAPPED_ADDRESS_END.fullmatch(line.strip()) else line.strip()
        for line in span
    )
    text = re.sub(r"([<(\[])\s+", r"\1", text)  # a line cut right after "<"
    return re.sub(r"(@[\w.-]+)\s+>", r"\1>", text)


def _starts_like_attribution(text: str) -> bool:
    return bool(
        _OPENER.match(text)
        or _DATE_FIRST.match(text)
        or _NAME_AND_ADDRESS_FIRST.match(text)
        or _NAME_THEN_WROTE.match(text)
    )


def _is_attribution(text: str, quote_follows: bool) -> bool:
    has_signal = bool(_ADDRESS.search(text) or _DATE_OR_TIME.search(text))
    if _ENDS_WITH_WROTE.fullmatch(text):
        if has_signal:
            return True
        if quote_follows:
            short = len(text.split()) <= ATTRIBUTION_MAX_WORDS_WITHOUT_DATE
            return short or bool(_OPENER.match(text) or _VIA_WROTE.fullmatch(text))
        return False
    # Any language: a date, then a name and address, then a colon ("вт, 5 янв. 2026 г. в 23:39,
    # Ana <ana@example.org>:"), even with no quote under it.
    date_first = _DATE_FIRST.match(text) is not None
    if (
        date_first
        and _ADDRESS.search(text)
        and _DATE_OR_TIME.search(text)
        and _ENDS_WITH_COLON.fullmatch(text)
    ):
        return True
    # Right above a quote: any line ending in a colon that names an address or a date (Mail.ru,
    # Gmail in Japanese), a date then an address, or an ISO date, a time and a name (old Gmail).
    if not quote_follows or not has_signal:
        return False
    return bool(
        _ENDS_WITH_COLON.fullmatch(text)
        or (date_first and _ENDS_WITH_ADDRESS.fullmatch(text))
        or (date_first and _YEAR.search(text) and _TIME.search(text) and not text.endswith((".", "!", "?")))
    )


# --- Where an unquoted original starts -------------------------------------------------------


def _starts_unquoted_original(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if _SEPARATOR.fullmatch(line):
        return not _quoted_attribution_follows(lines, index + 1)
    if _FORWARD_INTRO.fullmatch(line) or _is_header_block(lines, index):
        return True
    # A lone rule or an unknown dashed title right above a header block (Outlook, QQ Mail).
    return bool(_RULE.fullmatch(line) or _ANY_DASHED_TITLE.fullmatch(line)) and _header_block_follows(
        lines, index
    )


def _quoted_attribution_follows(lines: list[str], index: int) -> bool:
    following = next((position for position in range(index, len(lines)) if lines[position].strip()), None)
    if following is None:
        return False
    attribution = _attribution_at(lines, following)
    return attribution is not None and attribution.quote_follows


def _header_label(line: str) -> tuple[str, bool] | None:
    """(kind, has a colon) for a line like "From: Ana Ruiz <ana@example.org>", else None."""
    text = line.strip()
    for kind, pattern in _HEADER_LABELS.items():
        match = pattern.match(text)
        if match and match.group("value").strip():
            return kind, bool(_HAS_COLON_AFTER_LABEL.match(text))
    return None


def _is_header_block(lines: list[str], index: int) -> bool:
    """Three or more header lines in a row, with a sender and a date or recipient among them.

    Labels without a colon are common words ("An", "Da", "Do"), so a block of those must
    have all three kinds."""
    block = []
    for line in lines[index : index + HEADER_BLOCK_MAX_LINES]:
        label = _header_label(line)
        if label is None:
            break
        block.append(label)
    kinds = {kind for kind, _ in block}
    if len(block) < HEADER_BLOCK_MIN_LINES or block[0][0] == "other" or "from" not in kinds:
        return False
    if all(has_colon for _, has_colon in block):
        return len(kinds) >= 2
    return kinds == {"from", "date", "other"}


def _header_block_follows(lines: list[str], index: int) -> bool:
    following = [
        position for position in range(index + 1, min(index + 4, len(lines))) if lines[position].strip()
    ]
    return bool(following) and _is_header_block(lines, following[0])


# --- Signatures, footers and sign-offs -------------------------------------------------------


def _before_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line.strip() in SIGNATURE_DELIMITERS:
            return lines[:index]
    return lines


def _without_trailing_footers(lines: list[str]) -> list[str]:
    return _trimmed(lines[: _end_before_footers(lines, len(lines))])


def _end_before_footers(lines: list[str], end: int) -> int:
    while True:
        while end > 0 and (_is_blank_or_rule(lines[end - 1]) or _is_footer(lines[end - 1])):
            end -= 1
        list_footer = _mailing_list_footer_start(lines, end)
        if list_footer is None:
            return end
        end = list_footer


def _is_blank_or_rule(line: str) -> bool:
    text = line.strip()
    return not text or _DELIMITER_ONLY.fullmatch(text) is not None


def _is_footer(line: str) -> bool:
    text = _FOOTER_WRAPPING.sub("", _LINK.sub("", _MARKDOWN_LINK.sub(r"\g<text>", line)))
    return bool(_APP_FOOTER.fullmatch(text))


def _mailing_list_footer_start(lines: list[str], end: int) -> int | None:
    """Where a list's footer (an underscore rule, "... mailing list", a listinfo link) starts."""
    start = end
    while start > 0 and _is_list_footer_line(lines[start - 1]):
        start -= 1
    footer = lines[start:end]
    if start == end or not any(_MAILING_LIST_MARKER.search(line) for line in footer):
        return None
    return start if start > 0 else None


def _is_list_footer_line(line: str) -> bool:
    text = line.strip()
    return bool(
        not text
        or _RULE.fullmatch(text)
        or _MAILING_LIST_MARKER.search(text)
        or _LINK.search(text)
        or _ADDRESS.fullmatch(text.strip("<>"))
    )


def _without_trailing_extras(lines: list[str]) -> list[str]:
    """Drop footers, a one-line name signature, sign-off blocks and a disclaimer from the end,
    as long as words remain."""
    first_text = next((index for index, line in enumerate(lines) if line.strip()), len(lines))
    end = _end_before_footers(lines, len(lines))
    while True:
        if (disclaimer := _disclaimer_start(lines, first_text, end)) is not None:
            end = _end_before_footers(lines, disclaimer)
        elif (sign_off := _sign_off_start(lines, first_text, end)) is not None:
            end = _end_before_footers(lines, sign_off)
        elif _is_name_signature(lines, first_text, end):
            end = _end_before_footers(lines, end - 1)
        else:
            return _trimmed(lines[:end])


def _disclaimer_start(lines: list[str], first_text: int, end: int) -> int | None:
    """The last paragraph, when it is a confidentiality notice under the person's words."""
    start = end
    while start > first_text and lines[start - 1].strip():
        start -= 1
    paragraph = " ".join(line.strip() for line in lines[start:end])
    if start <= first_text or not paragraph or not _DISCLAIMER_MARKER.search(paragraph):
        return None
    return start


def _is_name_signature(lines: list[str], first_text: int, end: int) -> bool:
    """A last line like "-Ana" or "— Ana Ruiz", that is not the last item of a list."""
    if end - 1 <= first_text:
        return False
    match = _NAME_SIGNATURE.fullmatch(lines[end - 1].strip())
    if not match or not _is_a_name(match.group("name")):
        return False
    previous = next((line for line in reversed(lines[first_text : end - 1]) if line.strip()), "")
    # "- Camille" under "- item" lines may be the list's last item; "-Tom" under "2. item" is not.
    in_dashed_list = _BULLET.match(previous) and not previous.lstrip()[0].isdigit()
    return not in_dashed_list and not previous.rstrip().endswith(":")


def _sign_off_start(lines: list[str], first_text: int, end: int) -> int | None:
    """Where, before ``end``, a closing line followed only by a few name-like lines starts."""
    earliest = max(end - 2 * SIGN_OFF_MAX_LINES - 2, first_text + 1)  # blank lines may sit between
    for index in range(earliest, end):
        after = [line for line in lines[index + 1 : end] if line.strip()]
        if (
            _is_closing(lines[index])
            and len(after) <= SIGN_OFF_MAX_LINES
            and all(_looks_like_name_or_title(line, position) for position, line in enumerate(after))
        ):
            return index
    return None


def _is_closing(line: str) -> bool:
    """ "Best regards,", "Merci !" or a closing with a name: "Thanks, Noor"."""
    text = line.strip().rstrip(",.:!。、\uff01\uff0c ").strip()  # "Üdvözlettel:" in Hungarian
    text = text.replace("İ", "i")  # Turkish: "İyi çalışmalar" lower-cases to "i̇yi" otherwise
    if text.lower() in words.CLOSINGS or (_is_cjk(text) and text.replace(" ", "") in words.CLOSINGS):
        return True
    closing, separator, name = text.partition(",")
    if not separator:
        closing, _, name = text.rpartition(" ")
    return closing.strip().lower() in words.CLOSINGS and _is_a_name(name)


def _is_a_name(text: str) -> bool:
    """One to three capitalised words; scripts without case (준호, 李娜) count as capitalised."""
    name_words = text.split()
    return 0 < len(name_words) <= 3 and all(
        word[0].isalpha() and not word[0].islower() for word in name_words
    )


def _looks_like_name_or_title(line: str, position: int) -> bool:
    """A name, then role, company or phone lines; roles may be lower case ("руководитель отдела")."""
    text = line.strip()
    first_letter = next((char for char in text if char.isalpha()), "")
    is_sentence = text.endswith(".") and len(text.split()) >= 5
    return (
        len(text) <= SIGN_OFF_LINE_LENGTH
        and not (position == 0 and first_letter.islower())
        and not text.endswith(("?", ":", "!"))
        and not is_sentence
    )


def _trimmed(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]
