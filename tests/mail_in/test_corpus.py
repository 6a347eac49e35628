"""Reply extraction measured on the corpus of real-world reply shapes (see corpus/README.md).

Each corpus/<case>.eml goes through `reply_text`, the result is compared exactly with
corpus/<case>.expected.txt, and the accuracy line plus every miss is printed in the test output.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from signoff_service.mail_in.reply_text import reply_text

CORPUS = Path(__file__).parent / "corpus"
REQUIRED_ACCURACY = 0.95
MAX_DIFF_LINES = 12


@dataclass(frozen=True)
class Miss:
    case: str
    expected: str
    extracted: str

    def report(self) -> list[str]:
        diff = difflib.unified_diff(
            self.expected.splitlines(), self.extracted.splitlines(), "expected", "extracted", lineterm="", n=1
        )
        lines = [f"  MISS {self.case}"] + [f"    {line}" for line in diff]
        return lines[: MAX_DIFF_LINES + 1]


def corpus_cases() -> list[Path]:
    return sorted(CORPUS.glob("*.eml"))


def normalised(text: str) -> str:
    """Compare ignoring trailing whitespace on lines and blank lines at either end."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip("\n")


def extracted_from(case: Path) -> str:
    return reply_text(message_from_bytes(case.read_bytes(), policy=policy.default))


def expected_for(case: Path) -> str:
    return case.with_name(f"{case.stem}.expected.txt").read_text(encoding="utf-8")


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


def test_every_case_has_an_expected_extraction():
    cases = corpus_cases()

    assert len(cases) >= 60
    assert [case.stem for case in cases if not case.with_name(f"{case.stem}.expected.txt").exists()] == []
    assert sorted(CORPUS.glob("*.expected.txt")) == sorted(
        case.with_name(f"{case.stem}.expected.txt") for case in cases
    )


def test_reply_extraction_accuracy_on_the_corpus(request, capsys):
    cases = corpus_cases()
    misses = []
    for case in cases:
        expected, extracted = normalised(expected_for(case)), normalised(extracted_from(case))
        if extracted != expected:
            misses.append(Miss(case.stem, expected, extracted))
    exact = len(cases) - len(misses)
    accuracy = exact / len(cases)

    report = [f"reply extraction: {exact}/{len(cases)} exact ({accuracy:.1%})"]
    for miss in misses:
        report += miss.report()
    show(request, capsys, report)

    assert accuracy >= REQUIRED_ACCURACY, "\n".join(report)
