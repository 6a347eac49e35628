"""Pull out what a person actually wrote in an email reply.

A reply usually carries far more than the answer: the quoted original, an attribution line
("On ... wrote:"), a signature, a sign-off and a "Sent from my phone" footer. This module
cuts the body text (found by `message_body`) down to the person's own words. For inline
replies those are the person's unquoted lines in order, one blank line where a quoted block
was left out. The rules and the corpus they are measured on are in docs/reply-parsing.md.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from .message_body import message_text

# --- What clients write around a reply, per language -------------------------------------

_ANY = r".{1,250}"
# Matched against one stripped line, or two joined by a space (Gmail wraps long ones).
ATTRIBUTION_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rf"On\s{_ANY}\swrote\s*:",  # English
        rf"Am\s{_ANY}\sschrieb(?:\s{_ANY})?\s*:",  # German
        rf"Le\s{_ANY}\sa\s+écrit\s*:",  # French
        rf"El\s{_ANY}\sescribió\s*:",  # Spanish
        rf"Op\s{_ANY}\s(?:schreef(?:\s{_ANY})?|het\s+volgende\s+geschreven)\s*:",  # Dutch
        rf"Em\s{_ANY}\sescreveu\s*:",  # Portuguese
        rf"Il\s{_ANY}\sha\s+scritto\s*:",  # Italian
        rf"{_ANY}さんは書きました\s*[:\uff1a]",  # Japanese (Thunderbird)
        rf"{_ANY}<[^<>\s]+@[^<>\s]+>\s*のメール\s*[:\uff1a]",  # Japanese (Apple Mail)
        r"\d{4}年\d{1,2}月\d{1,2}日.{1,200}<[^<>\s]+@[^<>\s]+>\s*[:\uff1a]",  # Japanese (Gmail)
    )
)

ATTRIBUTION_MAX_LENGTH = 600  # longer lines are prose; also bounds the regex work per line

# Any language: a line ending in a colon that names an address, a date or a time, directly
# above quoted lines. Only trusted with the quote under it, as ordinary text can look so.
LOOSE_ATTRIBUTION = re.compile(
    r".{0,300}(?:@[\w.-]+\.\w+|\d{1,2}:\d{2}|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}).{0,300}[:\uff1a]"
)

# Dashed lines above an original that follows unquoted ("-----Original Message-----",
# Gmail's and Thunderbird's forward separators, Samsung's "-------- Original message --------").
SEPARATOR_PHRASES: tuple[str, ...] = (
    "Original Message",
    "Forwarded message",
    "Ursprüngliche Nachricht",
    "Weitergeleitete Nachricht",
    "Message d'origine",
    "Message transféré",
    "Mensaje original",
    "Mensaje reenviado",
    "Oorspronkelijk bericht",
    "Doorgestuurd bericht",
    "Mensagem original",
    "Mensagem encaminhada",
    "Messaggio originale",
    "Messaggio inoltrato",
    "元のメッセージ",
    "転送メッセージ",
)
# Apple Mail's line above a forwarded message.
FORWARD_INTROS: tuple[str, ...] = (
    "Begin forwarded message",
    "Anfang der weitergeleiteten Nachricht",
    "Début du message réexpédié",
    "Inicio del mensaje reenviado",
    "Begin doorgestuurd bericht",
    "Início da mensagem encaminhada",
    "Inizio messaggio inoltrato",
    "転送されたメッセージ",
)

# Outlook's header block above the original: a "From:" line, then within a few lines a
# date line and a recipient or subject line.
HEADER_FROM_LABELS: tuple[str, ...] = ("From", "Von", "De", "Van", "Da", "差出人", "送信者")
HEADER_DATE_LABELS: tuple[str, ...] = (
    "Sent", "Date", "Gesendet", "Datum", "Envoyé", "Enviado", "Enviado el", "Enviada", "Fecha", "Verzonden",
    "Data", "Inviato", "送信日時", "日付", "日時",
)  # fmt: skip
HEADER_TO_LABELS: tuple[str, ...] = (
    "To", "Cc", "Subject", "An", "Betreff", "À", "Objet", "Para", "Asunto", "Aan", "Onderwerp", "Assunto",
    "A", "Oggetto", "宛先", "件名",
)  # fmt: skip
HEADER_BLOCK_WINDOW = 5
UNDERSCORE_SEPARATOR = re.compile(r"_{10,}")

# Footers mail apps put under the person's words (links like "<https://aka.ms/...>" removed first).
_DEVICE = r"[\w .,'\u2019()&+-]{1,60}"
MOBILE_FOOTER_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        rf"Sent from my {_DEVICE}",
        rf"Sent from (?:Mail|Outlook|Yahoo Mail|Gmail Mobile|AOL Mail)(?:{_DEVICE})?",
        r"Sent with Proton Mail secure email\.?",
        r"Get Outlook for (?:iOS|Android|Mac)",
        rf"Von meinem {_DEVICE} gesendet\.?",
        rf"Gesendet (?:von|mit) {_DEVICE}",
        r"Outlook für (?:iOS|Android) beziehen",
        rf"Envoyé (?:de|depuis) (?:mon|ma) {_DEVICE}",
        r"Obtenir Outlook pour (?:iOS|Android)",
        rf"Enviado desde mi {_DEVICE}",
        r"Obtener Outlook para (?:iOS|Android)",
        rf"(?:Verstuurd|Verzonden) (?:vanaf|met) (?:mijn )?{_DEVICE}",
        r"Outlook voor (?:iOS|Android) downloaden",
        rf"Enviado (?:do|de) meu {_DEVICE}",
        r"(?:Obter o|Baixe o) Outlook para (?:iOS|Android)",
        rf"Inviato da(?:l mio)? {_DEVICE}",
        r"Scarica Outlook per (?:iOS|Android)",
        r"[\w .-]{1,40}から送信",
        r"(?:iOS|Android)\s?版\s?Outlook\s?を入手",
    )
)
_LINK = re.compile(r"<(?:https?|mailto):[^>]*>")

# Closing phrases that start a sign-off block ("Best regards,\nJonas Weber\nPlatform team").
CLOSINGS: frozenset[str] = frozenset(
    {
        # English
        "thanks", "thank you", "thanks again", "many thanks", "thanks a lot", "thx", "cheers", "best",
        "best regards", "kind regards", "warm regards", "regards", "all the best", "best wishes", "sincerely",
        # German
        "danke", "vielen dank", "danke schön", "gruß", "grüße", "viele grüße", "beste grüße", "liebe grüße",
        "schöne grüße", "herzliche grüße", "freundliche grüße", "mit freundlichen grüßen", "mfg", "vg", "lg",
        # French
        "merci", "merci beaucoup", "cordialement", "bien cordialement", "bien à vous", "salutations",
        "bonne journée", "à bientôt",
        # Spanish
        "gracias", "muchas gracias", "saludos", "un saludo", "saludos cordiales", "atentamente", "un abrazo",
        # Dutch
        "bedankt", "dank je", "dank je wel", "dank u", "dank u wel", "groet", "groeten",
        "met vriendelijke groet", "met vriendelijke groeten", "mvg", "hartelijke groet",
        # Portuguese
        "obrigado", "obrigada", "muito obrigado", "muito obrigada", "abraço", "abraços", "um abraço",
        "atenciosamente", "att", "cumprimentos", "melhores cumprimentos", "saudações",
        # Italian
        "grazie", "grazie mille", "saluti", "cordiali saluti", "distinti saluti", "un saluto", "a presto",
        # Japanese
        "よろしくお願いします", "よろしくお願いいたします", "よろしくお願い致します", "以上です", "以上",
        "ありがとうございます", "ありがとうございました",
    }
)  # fmt: skip
SIGN_OFF_MAX_LINES = 4  # name, role, company, phone
SIGN_OFF_LINE_LENGTH = 60

SIGNATURE_DELIMITERS = ("--", "-- ")


# --- Cutting quotes and signatures -----------------------------------------------------------


def reply_text(message: EmailMessage) -> str:
    """Return what the person wrote in ``message``, without quotes, signature or footers."""
    return strip_quoted_and_signature(message_text(message))


def strip_quoted_and_signature(text: str) -> str:
    """Keep only the person's own words: drop quoted text, attributions, the unquoted original
    below a header block or separator, the signature, sign-off and device footers."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    own: list[str] = []
    for run in _own_runs(lines):
        own += ([""] if own else []) + run
    return "\n".join(_without_trailing_extras(_before_signature(own)))


def _own_runs(lines: list[str]) -> list[list[str]]:
    """The person's unquoted stretches of lines, in order, up to where an unquoted original starts."""
    runs: list[list[str]] = [[]]
    index = 0
    while index < len(lines) and not _starts_unquoted_original(lines, index):
        attribution_length = _attribution_length(lines, index)
        if attribution_length and not _quote_follows(lines, index + attribution_length):
            break  # the original follows without ">" marks (Yahoo, Outlook for Mac)
        if not attribution_length and _is_loose_attribution(lines[index]):
            attribution_length = int(_quote_follows(lines, index + 1))
        if attribution_length or _is_quoted(lines[index]):
            runs.append([])
            index += attribution_length or 1
            continue
        runs[-1].append(lines[index])
        index += 1
    trimmed = (_without_trailing_footers(run) for run in runs)
    return [run for run in trimmed if run]


def _is_loose_attribution(line: str) -> bool:
    return len(line) <= ATTRIBUTION_MAX_LENGTH and LOOSE_ATTRIBUTION.fullmatch(line.strip()) is not None


def _starts_unquoted_original(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    return bool(
        _SEPARATOR.fullmatch(line)
        or _FORWARD_INTRO.fullmatch(line)
        or _is_header_block(lines, index)
        or (UNDERSCORE_SEPARATOR.fullmatch(line) and _header_follows(lines, index))
    )


_SEPARATOR = re.compile(
    rf"-{{2,}}\s*(?:{'|'.join(map(re.escape, SEPARATOR_PHRASES))})\s*-{{2,}}", re.IGNORECASE
)
_FORWARD_INTRO = re.compile(rf"(?:{'|'.join(map(re.escape, FORWARD_INTROS))})\s*[:\uff1a]", re.IGNORECASE)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quote_follows(lines: list[str], start: int) -> bool:
    following = next((line for line in lines[start:] if line.strip()), "")
    return _is_quoted(following)


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) the attribution starting at ``index`` spans; 0 if none."""
    line = lines[index].strip()
    if not line or _is_quoted(line) or len(line) > ATTRIBUTION_MAX_LENGTH:
        return 0
    if _is_attribution(line):
        return 1
    next_line = lines[index + 1].strip() if index + 1 < len(lines) else ""
    if not next_line or _is_quoted(next_line) or _is_attribution(next_line):
        return 0
    return 2 if _is_attribution(f"{line} {next_line}") else 0


def _is_attribution(text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in ATTRIBUTION_PATTERNS)


def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    # Clients that render bold headers as text write "*From:*"; French puts a space before ":".
    names = "|".join(re.escape(label) for label in labels)
    return re.compile(rf"\*?(?:{names})\s*\*?\s*[:\uff1a]", re.IGNORECASE)


_FROM_LABEL = _label_pattern(HEADER_FROM_LABELS)
_DATE_LABEL = _label_pattern(HEADER_DATE_LABELS)
_TO_LABEL = _label_pattern(HEADER_TO_LABELS)


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _FROM_LABEL.match(lines[index].strip()):
        return False
    following = [line.strip() for line in lines[index + 1 : index + 1 + HEADER_BLOCK_WINDOW]]
    return any(_DATE_LABEL.match(line) for line in following) and any(
        _TO_LABEL.match(line) for line in following
    )


def _header_follows(lines: list[str], index: int) -> bool:
    following = [line for line in lines[index + 1 : index + 3] if line.strip()]
    return bool(following) and _FROM_LABEL.match(following[0].strip()) is not None


def _before_signature(lines: list[str]) -> list[str]:
    for index, line in enumerate(lines):
        if line.strip() in SIGNATURE_DELIMITERS:
            return lines[:index]
    return lines


def _without_trailing_footers(lines: list[str]) -> list[str]:
    return _trimmed(lines[: _end_before_footers(lines, len(lines))])


def _end_before_footers(lines: list[str], end: int) -> int:
    while end > 0 and (not lines[end - 1].strip() or _is_footer(lines[end - 1])):
        end -= 1
    return end


def _without_trailing_extras(lines: list[str]) -> list[str]:
    """Drop device footers and closing sign-off blocks from the end, as long as words remain."""
    first_text = next((index for index, line in enumerate(lines) if line.strip()), len(lines))
    end = _end_before_footers(lines, len(lines))
    while (sign_off := _sign_off_start(lines, first_text, end)) is not None:
        end = _end_before_footers(lines, sign_off)
    return _trimmed(lines[:end])


def _is_footer(line: str) -> bool:
    text = _LINK.sub("", line).strip()
    return any(pattern.fullmatch(text) for pattern in MOBILE_FOOTER_PATTERNS)


def _sign_off_start(lines: list[str], first_text: int, end: int) -> int | None:
    """Where, before ``end``, a closing line followed only by a few name-like lines starts."""
    earliest = max(end - 2 * SIGN_OFF_MAX_LINES - 2, first_text + 1)  # blank lines may sit between
    for index in range(earliest, end):
        after = [line for line in lines[index + 1 : end] if line.strip()]
        if (
            _is_closing(lines[index])
            and len(after) <= SIGN_OFF_MAX_LINES
            and all(_looks_like_name_or_title(line) for line in after)
        ):
            return index
    return None


def _is_closing(line: str) -> bool:
    """ "Best regards,", "Merci !" or a closing with a name: "Thanks, Noor"."""
    text = line.strip().rstrip(",.!。、\uff01 ").strip()
    if text.lower() in CLOSINGS:
        return True
    closing, separator, name = text.partition(",")
    if not separator:
        closing, _, name = text.rpartition(" ")
    return closing.strip().lower() in CLOSINGS and _is_a_name(name)


def _is_a_name(text: str) -> bool:
    words = text.split()
    return 0 < len(words) <= 3 and all(word[0].isupper() for word in words)


def _looks_like_name_or_title(line: str) -> bool:
    text = line.strip()
    first_letter = next((char for char in text if char.isalpha()), "")
    is_sentence = text.endswith(".") and len(text.split()) >= 5
    return (
        len(text) <= SIGN_OFF_LINE_LENGTH
        and not first_letter.islower()
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
