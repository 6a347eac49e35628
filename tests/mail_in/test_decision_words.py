"""Tests for reading approve/reject decisions and chosen options from reply text."""

import dataclasses

import pytest

from signoff_service.mail_in.decision_words import (
    APPROVE_WORDS,
    REJECT_WORDS,
    ApprovalReply,
    match_response_option,
    read_approval_reply,
    read_decision,
)

# --- Approve words -------------------------------------------------------------------------


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
        "Approved \U0001f44d",
        "\u2705",
        "  Approved  ",
        "\n\n\u00a0Yes!\n",
        "\u200bApproved",
    ],
)
def test_a_bare_approve_word_approves_without_comment(text):
    assert read_decision(text) == (True, "")


@pytest.mark.parametrize(
    "text",
    [
        # German
        "Ja",
        "Genehmigt.",
        "Freigegeben!",
        "einverstanden",
        # French
        "Oui",
        "Approuv\u00e9",
        "Valid\u00e9 !",
        "D\u2019accord",
        # Spanish
        "S\u00ed",
        "Aprobado.",
        "De acuerdo",
        "Vale",
        # Dutch
        "Akkoord.",
        "Goedgekeurd",
        "Ok\u00e9",
        # Portuguese
        "Sim",
        "Aprovado.",
        # Italian
        "S\u00ec",
        "Approvato",
        "Va bene!",
        # Japanese
        "\u627f\u8a8d",
        "\u627f\u8a8d\u3057\u307e\u3059\u3002",
        "\u306f\u3044",
        # Spanish/Italian "si" typed without its accent, alone on the line
        "Si",
    ],
)
def test_a_bare_approve_word_in_each_language_approves(text):
    assert read_approval_reply(text) == ApprovalReply(approved=True, comment="", option_name=None)


@pytest.mark.parametrize(
    ("text", "comment"),
    [
        ("Approved, go ahead", "go ahead"),
        ("Yes. Ship it after lunch.", "Ship it after lunch."),
        ("LGTM - nice work on the rollback plan", "nice work on the rollback plan"),
        ("Approved! Thanks", "Thanks"),
        ("Approved!! Ship it", "Ship it"),
        ("Approved\n\nThanks, ship it Monday.", "Thanks, ship it Monday."),
        ("Approved, one ask:\nPost in #releases when done.", "one ask:\nPost in #releases when done."),
        ("Genehmigt, danke!", "danke!"),
        ("Genehmigt \u2013 bitte erst nach 18 Uhr ausrollen.", "bitte erst nach 18 Uhr ausrollen."),
        ("Oui, c'est bon pour moi.", "c'est bon pour moi."),
        ("S\u00ed, adelante.", "adelante."),
        ("Akkoord, ga je gang.", "ga je gang."),
        ("Sim, pode seguir.", "pode seguir."),
        ("Approvato, procedete pure.", "procedete pure."),
        (
            "\u306f\u3044\u3001\u304a\u9858\u3044\u3057\u307e\u3059\u3002",
            "\u304a\u9858\u3044\u3057\u307e\u3059\u3002",
        ),
    ],
)
def test_approve_word_with_a_remark_approves_and_keeps_the_remark(text, comment):
    assert read_decision(text) == (True, comment)


def test_only_the_first_line_decides_so_later_lines_are_the_comment():
    assert read_decision("\n\nApproved\nno, wait, not before Friday\n") == (
        True,
        "no, wait, not before Friday",
    )


# --- Doubt and anything unclear --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "yes but wait",
        "yes but not today",
        "Yes, but not today",
        "ok \u2014 but tell #ops first",
        "Approved, unless the canary is red",
        "OK, no rush though",
        "Yes... actually no",
        "yes but wait... actually no",
        "Approved? I thought this was Friday",
        "Approve?",
        "ok?",
        "not approved",
        "don't approve",
        "I approve",
        "Approved-ish",
        "okey dokey",
        "yesterday's build looked fine",
        "Hi,\nApproved",
        "Y, go",
        "Si, adelante",
        # The same doubt in each language
        "Ja, aber erst morgen",
        "Genehmigt, aber nicht vor Freitag",
        "Oui, mais pas aujourd'hui",
        "S\u00ed, pero ma\u00f1ana",
        "Ja, maar niet vandaag",
        "Aprovado, mas s\u00f3 depois das 22h.",
        "S\u00ec, ma non oggi",
        "\u306f\u3044\u3001\u3067\u3082\u4eca\u65e5\u306f\u30c0\u30e1\u3067\u3059",
        # Words that only start like approve words
        "Japan region is fine",
        "Simples, go",
        "Vale la pena esperar",
        "\u627f\u8a8d\u3057\u307e\u305b\u3093",  # "I do not approve"
        "\u627f\u8a8d\u3057\u307e\u3059\u304c\u6765\u9031\u306b",  # "I approve, but next week"
    ],
)
def test_anything_unclear_rejects_with_the_whole_text(text):
    assert read_decision(text) == (False, text)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "\u200b"])
def test_an_empty_reply_rejects_without_comment(text):
    assert read_decision(text) == (False, "")


# --- Reject words ----------------------------------------------------------------------------


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
        # German
        ("Nein, das Backup fehlt noch.", "das Backup fehlt noch."),
        ("Abgelehnt. Bitte erst nach dem Quartalsabschluss.", "Bitte erst nach dem Quartalsabschluss."),
        ("Nicht genehmigt: zu riskant", "zu riskant"),
        # French
        ("Non, pas avant jeudi.", "pas avant jeudi."),
        (
            "Refus\u00e9 : il manque le plan de retour arri\u00e8re.",
            "il manque le plan de retour arri\u00e8re.",
        ),
        ("Rejet\u00e9", ""),
        # Spanish
        ("Rechazado: falta la aprobaci\u00f3n de seguridad.", "falta la aprobaci\u00f3n de seguridad."),
        ("No, todav\u00eda no.", "todav\u00eda no."),
        # Dutch
        ("Nee, eerst de back-up controleren.", "eerst de back-up controleren."),
        ("Afgewezen, pas na de campagne.", "pas na de campagne."),
        # Portuguese
        ("N\u00e3o. A janela s\u00f3 abre no s\u00e1bado.", "A janela s\u00f3 abre no s\u00e1bado."),
        ("Rejeitado. O teste de carga ainda n\u00e3o terminou.", "O teste de carga ainda n\u00e3o terminou."),
        # Italian
        ("Respinto: manca il piano di rollback.", "manca il piano di rollback."),
        ("No, aspettiamo luned\u00ec.", "aspettiamo luned\u00ec."),
        # Japanese
        (
            "\u5374\u4e0b\u3057\u307e\u3059\u3002\u8ca0\u8377\u8a66\u9a13\u306e\u7d50\u679c\u3092\u5f85\u3063\u3066",
            "\u8ca0\u8377\u8a66\u9a13\u306e\u7d50\u679c\u3092\u5f85\u3063\u3066",
        ),
        ("\u3044\u3044\u3048\u3001\u91d1\u66dc\u65e5\u307e\u3067", "\u91d1\u66dc\u65e5\u307e\u3067"),
    ],
)
def test_reject_word_rejects_with_the_rest_as_comment(text, comment):
    assert read_decision(text) == (False, comment)


@pytest.mark.parametrize(
    "text",
    ["Nope, the canary is failing", "Non-blocking, approved", "N, never", "Nobody asked"],
)
def test_a_word_that_only_starts_like_a_reject_word_keeps_the_whole_text(text):
    assert read_decision(text) == (False, text)


def test_word_lists_do_not_overlap():
    assert not set(APPROVE_WORDS) & set(REJECT_WORDS)


# --- Reject options ----------------------------------------------------------------------------

REJECT_OPTIONS = ("too_risky", "wrong-account", "not now", "not now, next quarter")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("too_risky", ApprovalReply(approved=False, comment="too_risky", option_name="too_risky")),
        ("Too risky!", ApprovalReply(approved=False, comment="too_risky", option_name="too_risky")),
        (
            "TOO RISKY: the canary is red\nRetry after the fix.",
            ApprovalReply(False, "the canary is red\nRetry after the fix.", "too_risky"),
        ),
        (
            "too-risky\n\nThe canary is red.",
            ApprovalReply(approved=False, comment="The canary is red.", option_name="too_risky"),
        ),
        ("wrong account.", ApprovalReply(False, "wrong-account", "wrong-account")),
        ("Not now \u2014 the freeze is on", ApprovalReply(False, "the freeze is on", "not now")),
        ("not now, next quarter", ApprovalReply(False, "not now, next quarter", "not now, next quarter")),
    ],
)
def test_a_reject_option_name_on_the_first_line_picks_that_option(text, expected):
    assert read_approval_reply(text, REJECT_OPTIONS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Approved", ApprovalReply(approved=True, comment="", option_name=None)),
        ("No, wait", ApprovalReply(approved=False, comment="wait", option_name=None)),
        ("too risky indeed", ApprovalReply(False, "too risky indeed", None)),
        ("Hi,\ntoo_risky", ApprovalReply(False, "Hi,\ntoo_risky", None)),
    ],
)
def test_without_an_option_name_first_the_words_decide(text, expected):
    assert read_approval_reply(text, REJECT_OPTIONS) == expected


def test_blank_option_names_never_match():
    assert read_approval_reply("!", ["", "  "]) == ApprovalReply(False, "!", None)


def test_an_approval_reply_cannot_be_changed():
    reply = read_approval_reply("Approved")

    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.approved = False  # type: ignore[misc]


# --- Response options (questions) ----------------------------------------------------------------

RESPONSE_OPTIONS = ("eu-west-1", "us-east-1", "blue_team")


@pytest.mark.parametrize(
    ("text", "option"),
    [
        ("eu-west-1", "eu-west-1"),
        ("EU-WEST-1.", "eu-west-1"),
        ("\n\n  us-east-1!\nIt is next to the API.", "us-east-1"),
        ("Blue team", "blue_team"),
        ("eu-west-1, because of the database", None),
        ("Use eu-west-1", None),
        ("ap-south-1", None),
        ("", None),
    ],
)
def test_match_response_option_reads_an_option_name_on_the_first_line(text, option):
    assert match_response_option(text, RESPONSE_OPTIONS) == option


def test_match_response_option_without_options_is_none():
    assert match_response_option("eu-west-1", []) is None


# --- The languages added with the larger reply corpus ----------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Godkendt.", "Godkjent", "Godkänt!", "Kyllä", "Zatwierdzam", "Schváleno", "Evet", "Одобряю",
     "Да.", "Схвалено", "同意", "同意，没问题", "승인합니다."],
)  # fmt: skip
def test_approve_words_in_the_added_languages_approve(text):
    assert read_approval_reply(text).approved


@pytest.mark.parametrize(
    "text",
    ["Да, но не сегодня", "Kyllä, mutta huomenna", "Evet, ama bekle", "Ano, ale počkej",
     "同意，但是明天再部署", "승인, 하지만 내일", "Nej", "Нет", "拒绝", "Tak"],
)  # fmt: skip
def test_doubt_or_a_reject_word_in_the_added_languages_rejects(text):
    # "Tak" is "yes" in Polish but "thanks" in Danish, so it never approves.
    assert not read_approval_reply(text).approved
