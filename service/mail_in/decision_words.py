"""Read an approve/reject decision, or a chosen option, from the text of an email reply.

The first line with text decides. It approves only when it is an approve word, alone or
followed by one punctuation mark (or a spaced dash) and a remark free of doubt. A reject
word rejects with the rest as the comment; a reject option's name picks that option.
Anything else rejects with the whole text as the comment, because approving by mistake
costs far more than asking again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# fmt: off
APPROVE_WORDS: tuple[str, ...] = (
    "approve", "approved", "yes", "y", "lgtm", "ok", "okay", "👍", "✅",  # English
    "ja", "genehmigt", "freigegeben", "einverstanden",  # German
    "oui", "approuvé", "approuve", "validé", "d'accord",  # French
    "sí", "aprobado", "aprobada", "de acuerdo", "vale",  # Spanish
    "akkoord", "goedgekeurd", "oké",  # Dutch
    "sim", "aprovado", "aprovada",  # Portuguese
    "sì", "approvato", "approvata", "va bene",  # Italian
    "承認", "承認します", "承認しました", "はい",  # Japanese
    "godkendt", "godkender", "godkjent", "godkjenner", "godkänd", "godkänt", "godkänner",  # Nordic
    "kyllä", "hyväksytty", "hyväksyn",  # Finnish
    "zatwierdzam", "zatwierdzone", "akceptuję", "zgoda",  # Polish ("tak" is also Danish "thanks")
    "ano", "schváleno", "schvaluji",  # Czech
    "evet", "onaylandı", "onaylıyorum", "tamam",  # Turkish
    "да", "одобрено", "одобряю", "согласовано", "утверждаю", "ок",  # Russian
    "схвалено", "схвалюю", "погоджено",  # Ukrainian ("так" is also a filler word)
    "同意", "批准", "好的", "可以",  # Chinese
    "승인", "승인합니다", "네", "예", "좋습니다",  # Korean
)
REJECT_WORDS: tuple[str, ...] = (
    "reject", "rejected", "no", "deny", "denied", "decline", "declined", "n",  # English
    "nein", "abgelehnt", "nicht genehmigt",  # German
    "non", "refusé", "refusée", "rejeté", "rejetée",  # French
    "rechazado", "rechazada", "denegado",  # Spanish ("no" above)
    "nee", "afgewezen", "geweigerd", "niet akkoord",  # Dutch
    "não", "nao", "rejeitado", "rejeitada", "recusado",  # Portuguese
    "respinto", "respinta", "rifiutato", "negato",  # Italian ("no" above)
    "却下", "却下します", "いいえ", "不承認",  # Japanese
    "nej", "afvist", "nei", "avvist", "avvisad", "avslag",  # Nordic
    "ei", "hylätty", "hylkään",  # Finnish
    "nie", "odrzucam", "odrzucone",  # Polish
    "ne", "zamítnuto", "zamítám",  # Czech
    "hayır", "reddedildi", "reddediyorum",  # Turkish
    "нет", "отклонено", "отклоняю",  # Russian
    "ні", "відхилено", "відхиляю",  # Ukrainian
    "拒绝", "不同意", "驳回", "不行",  # Chinese
    "거절", "거부", "아니요", "반려",  # Korean
)
# A single letter, or a word that is also common prose in a corpus language ("si" is "if"),
# decides only when it stands alone on the line.
ALONE_ONLY_WORDS: frozenset[str] = frozenset({"y", "n", "si"})
APPROVE_ALONE_ONLY: tuple[str, ...] = ("si",)

# In the remark after an approve word, any of these makes the approval doubtful.
DOUBT_WORDS: tuple[str, ...] = (
    "but", "not", "don't", "dont", "no", "wait", "unless", "except", "only if", "hold",  # English
    "aber", "nicht", "kein", "keine", "warte", "außer", "erst wenn", "nur wenn",  # German
    "mais", "pas", "sauf", "attends", "seulement si",  # French
    "pero", "espera", "excepto", "salvo", "solo si",  # Spanish ("no" above)
    "maar", "niet", "geen", "wacht", "behalve", "alleen als",  # Dutch
    "mas", "não", "nao", "exceto", "só se", "aguarde",  # Portuguese
    "ma", "non", "però", "tranne", "aspetta", "solo se",  # Italian
    "men", "ikke", "vent", "undtagen", "inte", "vänta", "utom",  # Nordic
    "mutta", "odota", "paitsi",  # Finnish ("ei" above)
    "ale", "poczekaj", "chyba że", "tylko jeśli",  # Polish ("nie" above)
    "počkej", "kromě", "jen pokud",  # Czech ("ale", "ne" above)
    "ama", "fakat", "değil", "bekle", "hariç",  # Turkish
    "но", "не", "подожди", "подождите", "кроме", "только если",  # Russian
    "але", "зачекай", "крім",  # Ukrainian ("не" above)
)
DOUBT_FRAGMENTS: tuple[str, ...] = (
    "?", "\uff1f", "...", "…", "でも", "ただし", "しかし", "ません", "待って",  # Japanese
    "但是", "不过", "除非", "等等", "先别", "不要",  # Chinese
    "하지만", "그런데", "잠깐", "단,", "말고",  # Korean
)
# fmt: on

# One mark between a decision word and what follows ("Approved, go", "Yes. Ship it", "はい、");
# "!!" counts as one, "..." does not.
_MARK = r"(?:!+|[,.;:、。\uff01\uff0c](?![.,!;:]))"
_DASH = r"\s+[-\u2013\u2014]+\s+"
_TRAILING = "!.。\uff01 \t"
# Skin tones, the emoji variation selector and zero-width characters, so "👍🏽" reads as "👍".
_INVISIBLE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\u200b\u200c\u200d\u2060\ufeff]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u00b4": "'"})


@dataclass(frozen=True)
class ApprovalReply:
    """What a reply to an approval email decided."""

    approved: bool
    comment: str
    option_name: str | None = None


def read_approval_reply(text: str, reject_option_names: Sequence[str] = ()) -> ApprovalReply:
    """Read the person's reply text (already without quotes and signature) as a decision."""
    first_line, following = _first_line_and_rest(text)
    if not first_line:
        return ApprovalReply(approved=False, comment="")
    option = _leading_option(first_line, reject_option_names)
    if option is not None:
        name, remark = option
        return ApprovalReply(approved=False, comment=_joined(remark, following) or name, option_name=name)
    approval_remark = _approval_remark(first_line)
    if approval_remark is not None:
        return ApprovalReply(approved=True, comment=_joined(approval_remark, following))
    rejection_remark = _rejection_remark(first_line)
    if rejection_remark is not None:
        return ApprovalReply(approved=False, comment=_joined(rejection_remark, following))
    return ApprovalReply(approved=False, comment=text.strip())


def read_decision(text: str) -> tuple[bool, str]:
    """Return ``(approved, comment)`` for the person's reply text; see `read_approval_reply`."""
    reply = read_approval_reply(text)
    return reply.approved, reply.comment


def match_response_option(text: str, option_names: Sequence[str]) -> str | None:
    """The option whose name the reply's first line is (ignoring case and end punctuation), else None."""
    first_line, _ = _first_line_and_rest(text)
    wanted = _name_key(first_line)
    return next((name for name in option_names if wanted and _name_key(name) == wanted), None)


# --- Reading the first line -------------------------------------------------------------------


def _first_line_and_rest(text: str) -> tuple[str, str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        cleaned = _cleaned(line)
        if cleaned:
            return cleaned, "\n".join(lines[index + 1 :]).strip()
    return "", ""


def _cleaned(line: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFC", line)).translate(_APOSTROPHES).strip()


def _leading_option(first_line: str, names: Sequence[str]) -> tuple[str, str] | None:
    """A reject option named at the start of the line: alone, or before one mark and a remark."""
    for name in sorted((name for name in names if _name_pattern(name)), key=len, reverse=True):
        pattern = rf"{_name_pattern(name)}(?:[{_TRAILING}]*|(?:{_MARK}|{_DASH})\s*(?P<remark>.*))"
        match = re.fullmatch(pattern, first_line, re.IGNORECASE)
        if match:
            return name, match.group("remark") or ""
    return None


def _name_pattern(name: str) -> str:
    # "too_risky", "too-risky" and "too risky" all name the same option.
    words = re.split(r"[\s_-]+", name.strip())
    return r"[\s_-]+".join(re.escape(word) for word in words if word)


def _name_key(text: str) -> str:
    return " ".join(re.split(r"[\s_-]+", text.strip().rstrip(_TRAILING + "?,:;").casefold())).strip()


def _approval_remark(first_line: str) -> str | None:
    """The remark after an approve word ("" when there is none), or None when the line does not approve."""
    match = _APPROVE.fullmatch(first_line)
    if match is None:
        return None
    word, remark = match.group("word").casefold(), match.group("remark")
    if remark is None:
        return ""
    if word in ALONE_ONLY_WORDS or _is_doubtful(remark):
        return None
    return remark


def _rejection_remark(first_line: str) -> str | None:
    match = _REJECT.fullmatch(first_line)
    if match is None:
        return None
    if match.group("word").casefold() in ALONE_ONLY_WORDS and match.group("remark"):
        return None
    return match.group("remark") or ""


def _is_doubtful(remark: str) -> bool:
    lowered = remark.casefold()
    return any(fragment in lowered for fragment in DOUBT_FRAGMENTS) or _DOUBT.search(lowered) is not None


def _alternation(words: Sequence[str]) -> str:
    # Longest first, so "okay" is not read as "ok" followed by "ay".
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_APPROVE_EMOJI = "👍✅"
# Bare: the word, then only end punctuation or approving emoji ("Approved!", "Approved 👍").
# With a remark: exactly one mark or a spaced dash, then the remark ("Yes... actually" is neither).
_APPROVE = re.compile(
    rf"(?P<word>{_alternation(APPROVE_WORDS + APPROVE_ALONE_ONLY)})"
    rf"(?:[{_TRAILING}{_APPROVE_EMOJI}]*|(?:{_MARK}|{_DASH})\s*(?P<remark>[^\s.,].*))",
    re.IGNORECASE,
)
_REJECT = re.compile(
    rf"(?P<word>{_alternation(REJECT_WORDS)})(?:(?:\s[-\u2013\u2014]+\s|[\s,.;:!、。\uff01])+(?P<remark>.*))?",
    re.IGNORECASE,
)
_DOUBT = re.compile(rf"(?<!\w)(?:{_alternation(DOUBT_WORDS)})(?!\w)")


def _joined(remark: str, following: str) -> str:
    return f"{remark.strip()}\n{following}".strip()
