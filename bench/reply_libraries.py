"""Public reply-parsing libraries against our rules, on the reply corpus.

Every library gets the same input as our rules: the decoded body that `message_text` returns
(HTML already rendered as text). Each is used with everything it offers. The figures go into
docs/reply-parsing.md.

    python -m venv /tmp/libs && /tmp/libs/bin/pip install '.[server]' \
        talon email_reply_parser mail-parser-reply quotequail
    /tmp/libs/bin/python bench/reply_libraries.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path

from signoff_service.mail_in.message_body import message_text
from signoff_service.mail_in.reply_text import strip_quoted_and_signature

CORPUS = Path(__file__).parent.parent / "tests" / "mail_in" / "corpus"
HELD_OUT = CORPUS / "held_out"
# Development cases made from per-language templates carry this in their names.
TEMPLATE_MADE = "_agent_request_"
# mail-parser-reply's languages; it has no table for the others in the corpus.
MAIL_PARSER_REPLY_LANGUAGES = ["en", "de", "cs", "da", "es", "fr", "it", "ja", "ko", "nl", "pl", "sv", "zh"]

Extractor = Callable[[str], str]


def talon_extract(text: str) -> str:
    from talon import quotations
    from talon.signature.bruteforce import extract_signature

    return extract_signature(quotations.extract_from_plain(text))[0]


def email_reply_parser_extract(text: str) -> str:
    from email_reply_parser import EmailReplyParser

    return EmailReplyParser.parse_reply(text)


def mail_parser_reply_extract(text: str) -> str:
    from mailparser_reply import EmailReplyParser

    replies = EmailReplyParser(languages=MAIL_PARSER_REPLY_LANGUAGES).read(text).replies
    return replies[0].body if replies else ""


def quotequail_extract(text: str) -> str:
    import quotequail

    return "".join(part for shown, part in quotequail.quote(text, quote_intro_line=True) if shown)


def signoff_then_talon_signature(text: str) -> str:
    """Our rules, then talon's brute-force signature cut on what they kept."""
    from talon.signature.bruteforce import extract_signature

    return extract_signature(strip_quoted_and_signature(text))[0]


EXTRACTORS: dict[str, Extractor] = {
    "email-reply-parser": email_reply_parser_extract,
    "mail-parser-reply": mail_parser_reply_extract,
    "quotequail": quotequail_extract,
    "talon": talon_extract,
    "signoff": strip_quoted_and_signature,
    "signoff + talon signatures": signoff_then_talon_signature,
}


def normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")


def lost_words(expected: str, extracted: str) -> bool:
    kept = {line.strip() for line in extracted.split("\n")}
    return any(line.strip() not in kept for line in expected.split("\n") if line.strip())


def score(extract: Extractor, cases: list[tuple[str, str]]) -> tuple[int, int]:
    """(exact matches, cases that lost some of the person's lines)."""
    exact = lost = 0
    for body, expected in cases:
        try:
            extracted = normalised(extract(body))
        except Exception:  # noqa: BLE001 - a library crashing on a case is a miss for it, not for us
            extracted = ""
        exact += extracted == expected
        lost += extracted != expected and lost_words(expected, extracted)
    return exact, lost


def load(folder: Path, *, template_made: bool = True) -> list[tuple[str, str]]:
    cases = []
    for path in sorted(folder.glob("*.eml")):
        if not template_made and TEMPLATE_MADE in path.name:
            continue
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        expected = path.with_name(f"{path.stem}.expected.txt").read_text(encoding="utf-8")
        cases.append((message_text(message), normalised(expected)))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(EXTRACTORS), action="append", help="run these only")
    args = parser.parse_args()
    parts = {
        "development": load(CORPUS),
        "hand-written development": load(CORPUS, template_made=False),
        "held-out": load(HELD_OUT),
    }
    columns = " | ".join(f"{name} ({len(cases)})" for name, cases in parts.items())
    print(f"| | {columns} | lost text (development / held-out) |")
    print("| --- " * (len(parts) + 2) + "|")
    for name in args.only or EXTRACTORS:
        results = [score(EXTRACTORS[name], cases) for cases in parts.values()]
        cells = [
            f"{exact} ({exact / max(len(cases), 1):.1%})"
            for (exact, _), cases in zip(results, parts.values(), strict=True)
        ]
        lost = (results[0][1], results[-1][1])
        print(f"| {name} | " + " | ".join(cells) + f" | {lost[0]} / {lost[1]} |")


if __name__ == "__main__":
    main()
