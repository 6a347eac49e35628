"""Tests for pulling the person's own words out of email replies."""

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from signoff_service.mail_in.message_body import html_to_text, message_text
from signoff_service.mail_in.reply_text import reply_text, strip_quoted_and_signature

EMAILS = Path(__file__).parent / "emails"


def load(name: str) -> EmailMessage:
    return message_from_bytes((EMAILS / f"{name}.eml").read_bytes(), policy=policy.default)


def parse(raw: str) -> EmailMessage:
    return message_from_bytes(raw.replace("\n", "\r\n").encode("utf-8"), policy=policy.default)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("gmail_top_post_wrapped_attribution", "Approved, go ahead with the rollout."),
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


def test_message_text_renders_html_quotes_as_quoted_lines_and_drops_hidden_html():
    text = message_text(load("gmail_html_only_quote"))

    assert "track()" not in text
    assert "color:#888" not in text
    assert "wrote:" not in text  # Gmail marks its attribution line; it is left out
    assert text.endswith(
        '> Approval requested: enable the new checkout flow\n>> nested quote\n> Reply "approve" to approve.'
    )


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
        "First line\nSecond line\nafter break\ncell a cell b\nrow 2\n> quoted original\nbelow the quote"
    )


def test_strip_normalises_crlf_and_trailing_whitespace():
    assert strip_quoted_and_signature("\r\n\r\nApproved.   \r\nShip it\t\r\n\r\n") == "Approved.\nShip it"


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
    text = "Approved.\nOn Monday we can also do the second region.\nShip it."

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


# --- Rules added with the corpus (see docs/reply-parsing.md) ---------------------------------


def test_message_text_unwraps_format_flowed_but_keeps_quote_levels_and_the_signature_line():
    message = parse(
        'Content-Type: text/plain; charset="utf-8"; format=flowed\n\n'
        "Approved, after the nightly \n"
        "backup.\n"
        "> quoted and \n"
        "> wrapped\n"
        "-- \n"
        "Marta\n"
    )

    assert message_text(message).splitlines() == [
        "Approved, after the nightly backup.",
        "> quoted and wrapped",
        "-- ",
        "Marta",
    ]


def test_message_text_of_flowed_text_with_delsp_joins_without_the_space():
    message = parse(
        'Content-Type: text/plain; charset="utf-8"; format=flowed; delsp=yes\n\n'
        "\u5374\u4e0b\u3057\u307e \n\u3059\u3002\n"
    )

    assert message_text(message).splitlines() == ["\u5374\u4e0b\u3057\u307e\u3059\u3002"]


def test_message_text_leaves_lines_of_plain_text_that_is_not_flowed_alone():
    message = parse('Content-Type: text/plain; charset="utf-8"\n\nApproved, after the nightly \nbackup.\n')

    assert message_text(message).splitlines() == ["Approved, after the nightly ", "backup."]


def test_html_to_text_hides_marked_signatures_but_never_the_rest_after_a_void_element():
    html = (
        '<div>Approved.</div><hr class="gmail_signature"><div>Second line</div>'
        '<div class="gmail_signature"><div>Jonas Weber</div></div><div>After</div>'
    )

    assert html_to_text(html) == "Approved.\nSecond line\nAfter"


def test_html_to_text_nests_quote_levels():
    html = "<div>Top</div><blockquote>one<blockquote>two</blockquote>back</blockquote><div>end</div>"

    assert html_to_text(html) == "Top\n> one\n>> two\n> back\nend"


def test_strip_keeps_a_line_that_only_looks_like_an_attribution_when_no_quote_follows():
    text = "Approved.\nThe call at 10:30:\nwe agreed on the second region."

    assert strip_quoted_and_signature(text) == text


def test_strip_skips_an_unknown_language_attribution_above_a_quote():
    text = "Zatwierdzone.\n\nW dniu 4.03.2025 o 10:12 Signoff <approvals@example.com> napisał(a):\n> request"

    assert strip_quoted_and_signature(text) == "Zatwierdzone."


def test_strip_stops_at_an_attribution_followed_by_an_unquoted_original():
    text = "LGTM\n\nOn Tuesday, March 4, 2025 at 10:12 AM, Signoff <a@example.com> wrote:\n\nOriginal request"

    assert strip_quoted_and_signature(text) == "LGTM"


def test_strip_cuts_a_japanese_outlook_header_block():
    text = (
        "\u627f\u8a8d\n\n\u5dee\u51fa\u4eba: Signoff <approvals@example.com>\n"
        "\u9001\u4fe1\u65e5\u6642: 2025\u5e743\u67084\u65e5 10:12\n\u5b9b\u5148: a@example.jp\n"
        "\u4ef6\u540d: request\n\nOriginal"
    )

    assert strip_quoted_and_signature(text) == "\u627f\u8a8d"


@pytest.mark.parametrize(
    "footer",
    [
        "Envoy\u00e9 de mon iPhone",
        "Enviado desde mi iPhone",
        "Verstuurd vanaf mijn iPhone",
        "Enviado do meu iPhone",
        "Inviato da iPhone",
        "iPhone\u304b\u3089\u9001\u4fe1",
        "Outlook f\u00fcr iOS<https://aka.ms/o0ukef> beziehen",
        "Sent from Yahoo Mail on Android",
        "Sent with Proton Mail secure email.",
    ],
)
def test_strip_cuts_localized_device_footers(footer):
    assert strip_quoted_and_signature(f"Approved\n\n{footer}\n") == "Approved"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Approved.\n\nBest regards,\nJonas Weber\nPlatform | Example\n+44 20 7946 0000", "Approved."),
        ("Approved.\nThanks, Noor", "Approved."),
        ("eu-west-1\n\nMit freundlichen Gr\u00fc\u00dfen\n\nKatrin Vogel", "eu-west-1"),
        ("Thanks!\nJonas", "Thanks!\nJonas"),  # nothing else was written
        (
            "Approved.\n\nThanks,\nbut check the backup first",
            "Approved.\n\nThanks,\nbut check the backup first",
        ),
        (
            "Approved.\n\nCheers,\nWhat about the second region?",
            "Approved.\n\nCheers,\nWhat about the second region?",
        ),
        (
            "Approved.\n\nRegards,\nA\nB\nC\nD\nE",
            "Approved.\n\nRegards,\nA\nB\nC\nD\nE",
        ),  # too long to be a name
    ],
)
def test_strip_drops_a_closing_sign_off_block_only_under_words_of_its_own(text, expected):
    assert strip_quoted_and_signature(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Mail systems that store mbox files write a ">" before a line starting "From ".
        (">From release/2.4.", "From release/2.4."),
        (
            "Approved.\n>From now on, ship on Tuesdays.\n\nAna",
            "Approved.\nFrom now on, ship on Tuesdays.\n\nAna",
        ),
        (
            ">From the main branch.\n\nOn Mon, 3 Nov 2026, Bob wrote:\n> Which branch?",
            "From the main branch.",
        ),
    ],
)
def test_a_line_mangled_to_from_by_a_mail_system_is_the_persons_own(text, expected):
    assert strip_quoted_and_signature(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Yes.\n\nOn Mon, 3 Nov 2026, Bob wrote:\n>From here the plan is:\n> ship it",
        "Yes.\n\n> Earlier:\n>From the start we said so.\n> Right?",
    ],
)
def test_a_quoted_line_starting_from_stays_quoted(text):
    assert strip_quoted_and_signature(text) == "Yes."


def test_a_mangled_from_line_arriving_by_smtp_is_the_answer():
    # smtplib, like mbox-writing servers, sends a body line "From ..." as ">From ...".
    message = parse("From: ana@example.org\nSubject: Re: branch\n\n>From release/2.4.\n")
    assert reply_text(message) == "From release/2.4."
