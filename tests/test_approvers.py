"""Several approvers: first (the default), all, and a quorum of N; each vote recorded and shown."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from signoff_testing import (
    MailSink,
    RunningService,
    answer_by_email,
    link_after,
    text_body,
    unique_address,
    wait_until,
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ask_many(
    service: RunningService, key: str, call_id: str, people: list[str], **rule: object
) -> requests.Response:
    others = [{"address": person} for person in people[1:]]
    body = {
        "run_id": "approvers",
        "call_id": call_id,
        "spec": {
            "fn": "release",
            "kwargs": {"version": "2.0"},
            "channel": {"email": {"address": people[0], "additional_recipients": others}},
        }
        | rule,
    }
    return requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(key), timeout=10)


def status_of(service: RunningService, key: str, call_id: str) -> dict:
    return requests.get(
        f"{service.api_url}/function_calls/{call_id}", headers=bearer(key), timeout=10
    ).json()["status"]


def click(mail_sink: MailSink, person: str, label: str, text: str = "") -> requests.Response:
    return requests.post(
        link_after(mail_sink.wait_for_mail_to(person), label), data={"text": text}, timeout=10
    )


def test_all_must_approve_and_each_vote_is_shown(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    people = [unique_address(f"all{n}") for n in range(3)]
    assert ask_many(service, project_key, "all-1", people, approval_rule="all").status_code == 201

    first = click(mail_sink, people[0], "Approve:", "fine by me")
    assert first.status_code == 200 and "1 of 3 approvals" in first.text
    assert status_of(service, project_key, "all-1")["approved"] is None
    again = click(mail_sink, people[0], "Approve:")
    assert again.status_code == 409 and "already" in again.text.lower()
    assert "1 of 3 approvals" in again.text

    assert click(mail_sink, people[1], "Approve:").status_code == 200
    last = click(mail_sink, people[2], "Approve:")
    assert last.status_code == 200 and "Approved" in last.text
    assert status_of(service, project_key, "all-1")["approved"] is True
    for person in people:
        assert person in last.text  # every vote is on the page
    events = requests.get(
        f"{service.api_url}/function_calls/all-1/events", headers=bearer(project_key), timeout=10
    ).json()
    assert [e["kind"] for e in events].count("voted") == 3 and events[-1]["kind"] == "decided"


def test_a_quorum_of_two_and_one_reject_rejects(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    people = [unique_address(f"q{n}") for n in range(3)]
    assert (
        ask_many(service, project_key, "quorum-1", people, approval_rule="quorum", quorum=2).status_code
        == 201
    )
    assert click(mail_sink, people[0], "Approve:").status_code == 200
    rejected = click(mail_sink, people[1], "Reject:", "not before the freeze")
    assert rejected.status_code == 200 and "Rejected" in rejected.text
    status = status_of(service, project_key, "quorum-1")
    assert status["approved"] is False and status["comment"] == "not before the freeze"
    assert click(mail_sink, people[2], "Approve:").status_code == 409


def test_a_quorum_can_outvote_a_reject_when_the_request_says_so(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    people = [unique_address(f"qv{n}") for n in range(3)]
    created = ask_many(
        service, project_key, "quorum-2", people, approval_rule="quorum", quorum=2, any_reject_rejects=False
    )
    assert created.status_code == 201
    assert click(mail_sink, people[0], "Reject:", "no").status_code == 200
    assert status_of(service, project_key, "quorum-2")["approved"] is None
    assert click(mail_sink, people[1], "Approve:").status_code == 200
    # An email reply is a vote like a click.
    question = mail_sink.wait_for_mail_to(people[2])
    answer_by_email(service.smtp_port, people[2], question, "Approved")
    wait_until(lambda: status_of(service, project_key, "quorum-2")["approved"] is True, what="the quorum")


def test_each_email_vote_is_confirmed_with_the_vote_it_recorded(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    people = [unique_address(f"qe{n}") for n in range(3)]
    created = ask_many(
        service, project_key, "quorum-3", people, approval_rule="quorum", quorum=2, any_reject_rejects=False
    )
    assert created.status_code == 201
    for person, answer in [(people[0], "Reject, the freeze is on"), (people[1], "Approved, looks good")]:
        answer_by_email(service.smtp_port, person, mail_sink.wait_for_mail_to(person), answer)
    rejected = text_body(mail_sink.wait_for_mail_to(people[0], count=2))
    approved = text_body(mail_sink.wait_for_mail_to(people[1], count=2))
    assert "Rejected." in rejected and "the freeze is on" in rejected
    assert "Approved." in approved and "looks good" in approved
    # One vote each way, two needed: still open, and nobody else was told anything.
    assert status_of(service, project_key, "quorum-3")["approved"] is None
    assert len(mail_sink.messages_to(people[2])) == 1


def test_replies_voting_at_the_same_moment_are_all_counted_and_confirmed(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    people = [unique_address(f"rush{n}") for n in range(6)]
    created = ask_many(service, project_key, "quorum-rush", people, approval_rule="quorum", quorum=6)
    assert created.status_code == 201
    questions = [mail_sink.wait_for_mail_to(person) for person in people]

    with ThreadPoolExecutor(len(people)) as pool:
        replies = [
            pool.submit(answer_by_email, service.smtp_port, person, question, "Approved")
            for person, question in zip(people, questions, strict=True)
        ]
        for reply in replies:
            reply.result()
    for person in people:
        assert "Approved." in text_body(mail_sink.wait_for_mail_to(person, count=2))
    wait_until(lambda: status_of(service, project_key, "quorum-rush")["approved"] is True, what="six votes")


def test_rules_that_cannot_be_met_get_a_422(service: RunningService, project_key: str) -> None:
    people = [unique_address("solo")]
    too_many = ask_many(service, project_key, "quorum-bad", people, approval_rule="quorum", quorum=2)
    assert too_many.status_code == 422 and "quorum" in too_many.json()["detail"]
    missing = ask_many(service, project_key, "quorum-missing", people, approval_rule="quorum")
    assert missing.status_code == 422 and "quorum" in missing.json()["detail"]
