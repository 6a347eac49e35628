"""Tests for reading approve/reject decisions from reply text."""

import pytest

from signoff_service.mail_in.decision_words import APPROVE_WORDS, REJECT_WORDS, read_decision


@pytest.mark.parametrize(
    "text",
    [
        "approve",
        "Approved",
        "APPROVED!",
        "yes",
        "Yes.",
        "y",
        "LGTM",
        "lgtm!!",
        "ok",
        "Okay.",
        "\U0001f44d",
        "\U0001f44d\U0001f3fd",
        "  Approved  ",
        "\n\n\u00a0Yes!\n",
    ],
)
def test_a_bare_approve_word_approves_without_comment(text):
    assert read_decision(text) == (True, "")


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        ("Approved, go ahead", "go ahead"),
        ("Yes. Ship it after lunch.", "Ship it after lunch."),
        ("LGTM - nice work on the rollback plan", "nice work on the rollback plan"),
        ("ok \u2014 but tell #ops first", "but tell #ops first"),
        ("Approved\n\nThanks, ship it Monday.", "Thanks, ship it Monday."),
        ("Approved, one ask:\nPost in #releases when done.", "one ask:\nPost in #releases when done."),
    ],
)
def test_approve_word_with_comment_approves_and_keeps_the_comment(text, comment):
    assert read_decision(text) == (True, comment)


@pytest.mark.parametrize(
    "text",
    [
        "yes but wait",
        "yes but wait... actually no",
        "Yes... actually no",
        "Approve?",
        "ok?",
        "not approved",
        "don't approve",
        "I approve",
        "Approved-ish",
        "okey dokey",
        "yesterday's build looked fine",
        "Hi,\nApproved",
    ],
)
def test_anything_unclear_rejects_with_the_whole_text(text):
    assert read_decision(text) == (False, text)


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        ("No", ""),
        ("n", ""),
        ("Rejected.", ""),
        ("deny!", ""),
        ("No, wait until Monday.", "wait until Monday."),
        ("Denied: tests are red", "tests are red"),
        ("reject - the DB backup is missing", "the DB backup is missing"),
        ("No wait for the freeze to end", "wait for the freeze to end"),
        ("Rejected\n\nThe window is closed.\nTry Monday.", "The window is closed.\nTry Monday."),
        ("No, not yet.\nThe migration is untested.", "not yet.\nThe migration is untested."),
    ],
)
def test_reject_word_rejects_with_the_rest_as_comment(text, comment):
    assert read_decision(text) == (False, comment)


def test_a_word_that_only_starts_like_a_reject_word_keeps_the_whole_text():
    assert read_decision("Nope, the canary is failing") == (False, "Nope, the canary is failing")


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_an_empty_reply_rejects_without_comment(text):
    assert read_decision(text) == (False, "")


def test_decision_reads_only_the_first_non_empty_line():
    assert read_decision("\n\nApproved\nno\n") == (True, "no")


def test_word_lists_do_not_overlap():
    assert not set(APPROVE_WORDS) & set(REJECT_WORDS)
