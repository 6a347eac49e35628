"""The emails people receive: headers, both parts, arguments, channel fields and options."""

from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor

import requests

from signoff import (
    EmailContactChannel,
    EmailRecipient,
    FunctionCallSpec,
    HumanContactSpec,
    HumanLayer,
    ResponseOption,
)

from signoff_testing import (
    SERVICE_FROM,
    WAIT_SECONDS,
    MailSink,
    RunningService,
    agent_layer,
    html_body,
    link_after,
    links_in,
    reply_headers,
    send_email,
    text_body,
    unique_address,
)


def layer(service: RunningService, key: str, channel: EmailContactChannel) -> HumanLayer:
    return agent_layer(service, key, channel)


def test_an_approval_email_has_proper_headers_and_matching_parts(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("headers")
    hl = layer(
        service, project_key, EmailContactChannel(address=address, context_about_user="the on-call lead")
    )
    hl.create_function_call(
        FunctionCallSpec(
            fn="scale_cluster", kwargs={"nodes": 12, "plan": {"region": "eu", "tiers": ["a", "b"]}}
        )
    )
    message = mail_sink.wait_for_mail_to(address)

    assert str(message["From"]) == f"signoff <{SERVICE_FROM}>"
    assert message["Message-ID"] and message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None
    assert str(message["Subject"]) == "Approval needed: scale_cluster"
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_body(message), html_body(message)
    assert "the on-call lead" in text and "the on-call lead" in html
    # Nested arguments are pretty-printed, the same in both parts.
    assert textwrap.indent(json.dumps({"region": "eu", "tiers": ["a", "b"]}, indent=2), "    ") in text
    assert "&#34;region&#34;: &#34;eu&#34;" in html or "&quot;region&quot;: &quot;eu&quot;" in html
    for link in links_in(message):
        assert link in html


def test_a_huge_argument_is_cut_in_the_email_and_whole_on_the_page(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("huge")
    document = "".join(f"line {number:05d} of the contract\n" for number in range(1000))
    layer(service, project_key, EmailContactChannel(address=address)).create_function_call(
        FunctionCallSpec(fn="sign_contract", kwargs={"document": document, "party": "ACME"})
    )
    message = mail_sink.wait_for_mail_to(address)
    text = text_body(message)
    assert "line 00000 of the contract" in text and "line 00999 of the contract" not in text
    assert "more characters: open the link to see everything" in text
    assert "party" in text and "ACME" in text
    page = requests.get(link_after(message, "Approve:"), timeout=10).text
    assert "line 00999 of the contract" in page


def test_additional_recipients_see_to_and_cc_but_never_bcc_and_each_can_decide(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    lead, deputy, watcher, auditor = (
        unique_address(name) for name in ("lead", "deputy", "watcher", "auditor")
    )
    channel = EmailContactChannel(
        address=lead,
        additional_recipients=[
            EmailRecipient(address=deputy, field="to"),
            EmailRecipient(address=watcher, field="cc"),
            EmailRecipient(address=auditor, field="bcc"),
        ],
    )
    hl = layer(service, project_key, channel)
    call = hl.create_function_call(FunctionCallSpec(fn="rotate_keys", kwargs={}))

    for person in (lead, deputy, watcher, auditor):
        message = mail_sink.wait_for_mail_to(person)
        assert str(message["To"]).split(", ") == [lead, deputy]
        assert str(message["Cc"]) == watcher
        assert auditor not in str(message)
    # Each copy carries links signed for its own recipient: the page says who decided.
    auditors_copy = mail_sink.wait_for_mail_to(auditor)
    decided = requests.post(
        link_after(auditors_copy, "Reject:"), data={"text": "Not during the audit."}, timeout=10
    )
    assert decided.status_code == 200 and auditor in decided.text
    status = hl.get_function_call(call.call_id).status
    assert (status.approved, status.comment) == (False, "Not during the audit.")


def test_a_channel_can_continue_an_existing_thread(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("thread")
    channel = EmailContactChannel.in_reply_to(
        from_address=address, subject="Invoice 1234", message_id="<invoice-1234@mail.example.org>"
    )
    layer(service, project_key, channel).create_human_contact(HumanContactSpec(msg="Shall I pay it?"))
    message = mail_sink.wait_for_mail_to(address)
    assert str(message["Subject"]) == "Re: Invoice 1234"
    assert str(message["In-Reply-To"]) == "<invoice-1234@mail.example.org>"
    assert str(message["References"]) == "<invoice-1234@mail.example.org>"


def test_a_custom_template_renders_escaped_in_a_sandbox(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("template")
    template = (
        "<h1>Hi! {{ fn }} wants {{ kwargs.amount }}</h1><a href='{{ approve_url }}'>Yes</a> {{ kwargs.note }}"
    )
    hl = layer(service, project_key, EmailContactChannel(address=address, template=template))
    hl.create_function_call(FunctionCallSpec(fn="refund", kwargs={"amount": 30, "note": "<b>rush</b>"}))
    message = mail_sink.wait_for_mail_to(address)
    html = html_body(message)
    assert html.startswith("<h1>Hi! refund wants 30</h1>")
    assert "&lt;b&gt;rush&lt;/b&gt;" in html and "<b>rush</b>" not in html
    assert link_after(message, "Approve:") in html  # the text part keeps our links too

    for hostile, mentions in (
        ("{{ fn.__class__.__mro__ }}", "template"),
        ("{% for %}", "template"),
        ("{{ no_such_variable }}", "no_such_variable"),
    ):
        body = {
            "run_id": "r",
            "call_id": unique_address("bad-template"),
            "spec": {
                "fn": "f",
                "kwargs": {},
                "channel": {"email": {"address": address, "template": hostile}},
            },
        }
        response = requests.post(
            f"{service.api_url}/function_calls",
            json=body,
            headers={"Authorization": f"Bearer {project_key}"},
            timeout=10,
        )
        assert response.status_code == 422, hostile
        assert response.json()["error"] == "invalid_request" and mentions in response.json()["detail"]


def test_reject_options_are_buttons_and_reply_words(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("options")
    options = [
        ResponseOption(
            name="too_risky",
            title="Too risky",
            description="Ask again after review",
            prompt_fill="Too risky now.",
        ),
        ResponseOption(name="wrong_amount", title="Wrong amount"),
    ]
    hl = layer(service, project_key, EmailContactChannel(address=address))

    @hl.require_approval(reject_options=options)
    def wire_money(amount: int) -> str:
        return "wired"

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(wire_money, amount=10_000)
        message = mail_sink.wait_for_mail_to(address)
        html, text = html_body(message), text_body(message)
        assert "Reject: Too risky" in html and "Ask again after review" in html
        assert '"too_risky"' in text  # the reply word
        option_link = link_after(message, "Reject (Too risky):")
        confirm = requests.get(option_link, timeout=10)
        assert confirm.status_code == 200 and "Too risky now." in confirm.text
        decided = requests.post(option_link, data={"text": "Too risky now."}, timeout=10)
        assert decided.status_code == 200 and "too_risky" in decided.text
        assert future.result(timeout=WAIT_SECONDS) == "User denied wire_money with message: Too risky now."


def test_a_reply_naming_a_reject_option_picks_it_and_is_confirmed_in_thread(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("optreply")
    hl = layer(service, project_key, EmailContactChannel(address=address))
    call = hl.create_function_call(
        FunctionCallSpec(
            fn="deploy", kwargs={}, reject_options=[ResponseOption(name="wait_for_qa", title="Wait for QA")]
        )
    )
    message = mail_sink.wait_for_mail_to(address)
    send_email(
        service.smtp_port,
        mail_from=address,
        to=str(message["Reply-To"]),
        body="wait_for_qa\nQA has not signed off yet.",
        headers=reply_headers(message),
        subject=f"Re: {message['Subject']}",
    )
    status = hl.client.wait_for_function_call(call.call_id, timeout=WAIT_SECONDS).status
    assert (status.approved, status.reject_option_name) == (False, "wait_for_qa")
    assert "QA has not signed off yet." in status.comment

    confirmation = mail_sink.wait_for_mail_to(address, count=2)
    assert confirmation["Auto-Submitted"] == "auto-replied"
    assert str(confirmation["Subject"]).startswith("Re: ")
    assert "Rejected (option: wait_for_qa)" in text_body(confirmation)
    [reply_row] = service.processed_inbound_to(str(message["Reply-To"]))
    assert reply_row.status == "accepted"
    assert str(confirmation["In-Reply-To"]).startswith("<") and str(confirmation["In-Reply-To"]) in str(
        confirmation["References"]
    )


def test_response_options_answer_a_question_by_link(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("choice")
    call_id = f"choice-{address}"
    hl = agent_layer(service, project_key, address, genid=lambda prefix: call_id)
    ask = hl.human_as_tool(
        response_options=[
            ResponseOption(name="eu", title="Europe"),
            ResponseOption(name="us", title="United States"),
        ]
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(ask, "Where should the data live?")
        message = mail_sink.wait_for_mail_to(address)
        assert "Europe" in html_body(message) and "United States" in html_body(message)
        assert requests.post(link_after(message, "Europe:"), data={"text": ""}, timeout=10).status_code == 200
        assert future.result(timeout=WAIT_SECONDS) == "Europe"
    answered = hl.get_human_contact(call_id)
    assert (answered.status.response, answered.status.response_option_name) == ("Europe", "eu")


def test_a_reply_naming_a_response_option_records_it(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("optanswer")
    hl = layer(service, project_key, EmailContactChannel(address=address, subject="Storage region"))
    contact = hl.create_human_contact(
        HumanContactSpec(
            msg="Where should the data live?",
            response_options=[ResponseOption(name="eu", title="Europe"), ResponseOption(name="us")],
        )
    )
    question = mail_sink.wait_for_mail_to(address)
    assert str(question["Subject"]) == "Storage region"
    send_email(service.smtp_port, mail_from=address, to=str(question["Reply-To"]), body="EU\n\nThanks!")
    status = hl.client.wait_for_human_contact(contact.call_id, timeout=WAIT_SECONDS).status
    assert status.response_option_name == "eu"
    assert status.response.startswith("EU")
