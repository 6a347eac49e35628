"""Reply extraction measured on the corpus of real-world reply shapes (see corpus/README.md).

Each corpus case (`<client>_<language>_<shape>.eml`) goes through `reply_text`, and the result
is compared exactly with `<case>.expected.txt`. The report, printed in the test output, gives
the exact-match rate for the whole corpus, for the development part and for the held-out part
(`corpus/held_out/`), per language and per client, and every miss with a diff. A miss that
dropped some of the person's own words is marked LOST: that is worse than leaving a quote in.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from functools import cached_property
from pathlib import Path

import pytest

from signoff_service.mail_in.reply_text import reply_text

CORPUS = Path(__file__).parent / "corpus"
HELD_OUT = CORPUS / "held_out"
REQUIRED_ACCURACY = 0.97
MIN_CASES, MIN_HELD_OUT_CASES, MIN_LANGUAGES = 400, 100, 15
MAX_DIFF_LINES = 12

# ISO 639-1 codes of the corpus languages; the first such token in a case's name is its language.
LANGUAGE_CODES = "cs da de el en es fi fr he hu it ja ko nb nl no pl pt ro ru sk sv tr uk zh"
CLIENT_NAMES = """gmail gmail_android gmail_ios outlook_desktop outlook_web outlook_mac outlook_ios
    outlook_android outlook apple_mail iphone ipad thunderbird yahoo yahoo_android protonmail
    fastmail k9 samsung samsung_email spark airmail gmx webde mailru yandex qq foxmail zoho mutt
    mailing_list html_only plain"""
LANGUAGES = frozenset(LANGUAGE_CODES.split())
CLIENTS = frozenset(CLIENT_NAMES.split())


def normalised(text: str) -> str:
    """Compare ignoring trailing whitespace on lines and blank lines at either end."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")


def text_lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


@dataclass(frozen=True)
class Case:
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def held_out(self) -> bool:
        return self.path.parent == HELD_OUT

    @cached_property
    def name_parts(self) -> tuple[str, str]:
        """(client, language) read from the file name."""
        tokens = self.name.split("_")
        index = next((i for i, token in enumerate(tokens) if i and token in LANGUAGES), None)
        if index is None:
            return "", ""
        return "_".join(tokens[:index]), tokens[index]

    @property
    def expected_path(self) -> Path:
        return self.path.with_name(f"{self.name}.expected.txt")

    @cached_property
    def expected(self) -> str:
        return normalised(self.expected_path.read_text(encoding="utf-8"))

    @cached_property
    def extracted(self) -> str:
        return normalised(reply_text(message_from_bytes(self.path.read_bytes(), policy=policy.default)))

    @property
    def exact(self) -> bool:
        return self.extracted == self.expected

    @property
    def lost_lines(self) -> list[str]:
        """The person's lines that the extraction does not contain."""
        kept = set(text_lines(self.extracted))
        return [line for line in text_lines(self.expected) if line not in kept]

    def miss_report(self) -> list[str]:
        marker = "LOST" if self.lost_lines else "MISS"
        part = "held-out " if self.held_out else ""
        diff = difflib.unified_diff(
            self.expected.splitlines(), self.extracted.splitlines(), "expected", "extracted", lineterm="", n=1
        )
        lines = [f"  {marker} {part}{self.name}"] + [f"    {line}" for line in diff]
        return lines[: MAX_DIFF_LINES + 1]


def corpus_cases() -> list[Case]:
    return [Case(path) for path in sorted(CORPUS.glob("*.eml")) + sorted(HELD_OUT.glob("*.eml"))]


def rate(cases: Iterable[Case]) -> str:
    cases = list(cases)
    exact = sum(case.exact for case in cases)
    share = exact / len(cases) if cases else 0.0
    return f"{exact}/{len(cases)} ({share:.1%})"


def accuracy(cases: list[Case]) -> float:
    return sum(case.exact for case in cases) / len(cases)


def breakdown(title: str, cases: list[Case], key_index: int) -> list[str]:
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        groups[case.name_parts[key_index]].append(case)
    entries = [f"{key} {rate(group)}" for key, group in sorted(groups.items())]
    lines, line = [], f"  {title}:"
    for entry in entries:
        if len(line) + len(entry) > 98:
            lines.append(line)
            line = "   "
        line += f" {entry};"
    return [*lines, line.rstrip(";")]


def report(cases: list[Case]) -> list[str]:
    development = [case for case in cases if not case.held_out]
    held_out = [case for case in cases if case.held_out]
    misses = [case for case in cases if not case.exact]
    lost = [case for case in misses if case.lost_lines]
    return [
        f"reply extraction: {rate(cases)} exact on the whole corpus",
        f"  development part: {rate(development)}; held-out part: {rate(held_out)}",
        f"  cases that lost reply text: {len(lost)} ({sum(c.held_out for c in lost)} held-out); "
        f"cases that kept extra text: {len(misses) - len(lost)}",
        *breakdown("per language", cases, 1),
        *breakdown("per client", cases, 0),
        *(line for case in misses for line in case.miss_report()),
    ]


def show(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], lines: list[str]) -> None:
    """Print past pytest's output capture, so the figures appear in a normal run."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    with capsys.disabled():
        if reporter is None:
            print("\n" + "\n".join(lines))
            return
        reporter.write("\n")  # -q leaves the cursor after the progress dots
        for line in lines:
            reporter.write_line(line)


def test_the_corpus_is_large_and_every_case_is_complete():
    cases = corpus_cases()

    assert len(cases) >= MIN_CASES
    assert sum(case.held_out for case in cases) >= MIN_HELD_OUT_CASES
    assert len({case.name_parts[1] for case in cases}) >= MIN_LANGUAGES
    assert [case.name for case in cases if not case.expected_path.exists()] == []
    for folder in (CORPUS, HELD_OUT):
        assert sorted(folder.glob("*.expected.txt")) == sorted(
            case.expected_path for case in cases if case.path.parent == folder
        )


def test_every_case_is_named_for_a_known_client_and_language():
    unnamed = [case.name for case in corpus_cases() if case.name_parts[0] not in CLIENTS]

    assert unnamed == []


def test_reply_extraction_accuracy_on_the_corpus(request, capsys):
    cases = corpus_cases()
    held_out = [case for case in cases if case.held_out]
    lines = report(cases)
    show(request, capsys, lines)
    message = "\n".join(lines)

    assert accuracy(cases) >= REQUIRED_ACCURACY, message
    assert accuracy(held_out) >= REQUIRED_ACCURACY, message
    assert [case.name for case in held_out if case.lost_lines] == [], message
