"""Tests for pulling the person's own words out of email replies."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from signoff_service.mail_in.reply_text import message_text, reply_text, strip_quoted_and_signature

EMAILS = Path(__file__).parent / "emails"


def load(name: str) -> EmailMessage:
    return message_from_bytes((EMAILS / f"{name}.eml").read_bytes(), policy=policy.default)


def parse(raw: str) -> EmailMessage:
    return message_from_bytes(raw.replace("\n", "\r\n").encode("utf-8"), policy=policy.default)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("gmail_top_post_wrapped_attribution", "Approved, go ahead with the rollout.\n\nThanks!\nJonas"),
        (
            "outlook_desktop_header_block",
            "Rejected - the change window is closed until Monday. We\u2019ll retry then.\n\nPriya",
        ),
        ("outlook_web_underscore_separator", "Approved.\nPlease post in #releases when it is out."),
        ("outlook_web_html_only", "Approved.\nPlease post in #releases when it is out. Merci, Andr\u00e9"),
        ("apple_mail_sent_from_iphone", "Yes, but please tag the release before deploying \u2014 thanks."),
        ("thunderbird_bottom_post", "Approved.\n\nShip it after the 14:00 standup, please."),
        (
            "signature_after_dashes",
            "Rejected: the rollback plan is missing.\n\nAdd one to the ticket and ask again.",
        ),
        (
            "gmail_html_only_quote",
            "Rejected \u2014 staging is still red & the on-call hasn't signed off.\n\n"
            "Blocking issues:\nflaky checkout test\nmissing DB backup\nPing me when both are fixed.",
        ),
        ("outlook_android_base64", "Approved \U0001f44d"),
        ("unknown_charset", "Approved, merci Ren\u00e9."),
        ("german_attribution", "Genehmigt \u2013 bitte erst nach 18 Uhr ausrollen."),
        ("french_attribution", "Refus\u00e9 : il manque le plan de retour arri\u00e8re.\n\n\u00c9lodie"),
        ("spanish_attribution", "Aprobado. Adelante con el despliegue."),
        ("html_body_with_text_attachment", "OK.\nStats attached for the record."),
    ],
)
def test_reply_text_of_real_client_shapes(case, expected):
    assert reply_text(load(case)) == expected


def test_message_text_prefers_the_plain_part_over_html():
    text = message_text(load("gmail_top_post_wrapped_attribution"))

    assert text.startswith("Approved, go ahead with the rollout.\n\nThanks!\nJonas\n\nOn Tue, Mar 4, 2025")
    assert "> Requested by: deploy-bot" in text


def test_message_text_drops_gmail_quote_and_hidden_html():
    text = message_text(load("gmail_html_only_quote"))

    assert "track()" not in text
    assert "color:#888" not in text
    assert "nested quote" not in text
    assert "wrote:" not in text


def test_message_text_drops_everything_after_outlook_reply_marker():
    text = message_text(load("outlook_web_html_only"))

    assert text == "Approved.\nPlease post in #releases when it is out. Merci, Andr\u00e9"


def test_message_text_ignores_a_plain_text_attachment():
    assert message_text(load("html_body_with_text_attachment")) == "OK.\nStats attached for the record."


def test_message_text_decodes_the_declared_charset():
    message = message_from_bytes(
        b"Content-Type: text/plain; charset=iso-8859-15\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Approved, costs \xa4 40.\r\n",
        policy=policy.default,
    )

    assert message_text(message) == "Approved, costs \u20ac 40.\r\n"


@pytest.mark.parametrize("charset", ["x-unknown", "base64", "rot13", "", "utf-8; format=flowed"])
def test_message_text_never_raises_on_odd_charsets(charset):
    message = parse(
        f'Content-Type: text/plain; charset="{charset}"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Approved =E2=9C=94\n"
    )

    assert message_text(message) == "Approved \u2714\r\n"


def test_message_text_replaces_bytes_broken_for_the_charset():
    message = parse(
        'Content-Type: text/plain; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Approved =FF\n"
    )

    assert message_text(message) == "Approved \ufffd\r\n"


def test_message_text_of_a_message_with_only_an_attachment_is_empty():
    message = parse(
        "Content-Type: text/plain; name=notes.txt\n"
        "Content-Disposition: attachment; filename=notes.txt\n\n"
        "not a reply\n"
    )

    assert message_text(message) == ""


def test_message_text_turns_html_blocks_into_lines():
    message = parse(
        'Content-Type: text/html; charset="utf-8"\n\n'
        "<p>First line</p><p>Second&nbsp;line<br>after break</p>"
        "<table><tr><td>cell a</td><td>cell b</td></tr><tr><td>row 2</td></tr></table>"
        '<blockquote type="cite"><div>quoted original</div></blockquote><div>below the quote</div>\n'
    )

    assert message_text(message) == (
        "First line\nSecond line\nafter break\ncell a cell b\nrow 2\nbelow the quote"
    )


def test_strip_normalises_crlf_and_trailing_whitespace():
    assert strip_quoted_and_signature("\r\n\r\nApproved.   \r\nThanks\t\r\n\r\n") == "Approved.\nThanks"


def test_strip_keeps_text_without_any_quote_or_signature():
    assert strip_quoted_and_signature("Yes\n\n  indented detail\n") == "Yes\n\n  indented detail"


def test_strip_cuts_a_single_line_attribution():
    text = "LGTM\n\nOn Tue, Mar 4, 2025 at 10:12 AM Signoff <approvals@example.com> wrote:\n> request\n"

    assert strip_quoted_and_signature(text) == "LGTM"


def test_strip_cuts_an_attribution_wrapped_before_wrote():
    text = "Approved\n\nOn Tue, Mar 4, 2025 at 10:12 AM Signoff Approvals <approvals@example.com>\nwrote:\n"

    assert strip_quoted_and_signature(text) == "Approved"


def test_strip_cuts_at_quoted_lines_without_attribution():
    assert strip_quoted_and_signature("No, not today.\n> Approval requested: deploy\n> Reply approve") == (
        "No, not today."
    )


def test_strip_cuts_outlook_original_message_separator():
    text = (
        "Denied, see the incident channel.\n\n"
        "-----Original Message-----\n"
        "From: Signoff [mailto:approvals@signoff.example.com]\n"
        "Sent: Tuesday, March 04, 2025 10:12 AM\n"
    )

    assert strip_quoted_and_signature(text) == "Denied, see the incident channel."


def test_strip_cuts_outlook_for_mac_header_block_with_date_label():
    text = (
        "ok\n\n"
        "From: Signoff <approvals@signoff.example.com>\n"
        "Date: Tuesday, 4 March 2025 at 10:12\n"
        "To: Kim Park <kim@example.org>\n"
        "Subject: Approval requested: purge CDN cache\n"
    )

    assert strip_quoted_and_signature(text) == "ok"


def test_strip_cuts_bold_header_block_rendered_as_text():
    text = (
        "Approved\n\n"
        "*From:* Signoff <approvals@signoff.example.com>\n"
        "*Sent:* Tuesday, March 4, 2025 10:12 AM\n"
        "*To:* Kim Park <kim@example.org>\n"
        "*Subject:* Approval requested: purge CDN cache\n"
    )

    assert strip_quoted_and_signature(text) == "Approved"


def test_strip_keeps_a_from_line_that_starts_no_header_block():
    text = "Rejected.\nFrom: the release notes it is clear this is not ready.\nTry next week."

    assert strip_quoted_and_signature(text) == text


def test_strip_keeps_a_sentence_starting_with_on():
    text = "Approved.\nOn Monday we can also do the second region.\nThanks"

    assert strip_quoted_and_signature(text) == text


def test_strip_keeps_own_line_before_an_attribution_that_fits_one_line():
    text = "On it, approved.\nOn Tue, Mar 4, 2025 at 10:12 AM Signoff <approvals@example.com> wrote:\n> x"

    assert strip_quoted_and_signature(text) == "On it, approved."


@pytest.mark.parametrize("delimiter", ["-- ", "--"])
def test_strip_cuts_signature_delimiter(delimiter):
    assert strip_quoted_and_signature(f"Yes.\n{delimiter}\nAlex\nOps") == "Yes."


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my Android",
        "Sent from my Galaxy",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/AAb9ysg>",
        "Sent from Mail for Windows",
        "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows 10",
        "Von meinem iPhone gesendet",
    ],
)
def test_strip_cuts_mobile_footers(footer):
    assert strip_quoted_and_signature(f"Approved\n\n{footer}\n") == "Approved"


def test_strip_keeps_own_text_between_quoted_blocks():
    text = (
        "On Tue, Mar 4, 2025, Signoff wrote:\n"
        "> Approval requested: deploy\n"
        "> Reply approve or reject.\n"
        "\n"
        "Approve\n"
        "\n"
        "> Requested by: deploy-bot\n"
        "\n"
        "That bot is fine.\n"
    )

    assert strip_quoted_and_signature(text) == "Approve\n\nThat bot is fine."


def test_strip_of_a_bare_forward_is_empty():
    text = "\n-----Original Message-----\nFrom: someone\nSent: today\nTo: me\n\nOriginal body"

    assert strip_quoted_and_signature(text) == ""


def test_strip_of_empty_text_is_empty():
    assert strip_quoted_and_signature("") == ""
