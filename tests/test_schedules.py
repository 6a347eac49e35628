"""Reminders and escalation run by the server, on a schedule the request carries."""

from __future__ import annotations

import requests

from signoff_testing import MailSink, RunningService, link_after, text_body, unique_address


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_remind_then_escalate_in_the_same_thread_then_stop_once_decided(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver, boss = unique_address("scheduled"), unique_address("scheduled-boss")
    body = {
        "run_id": "schedules",
        "call_id": "scheduled-1",
        "spec": {
            "fn": "renew_certificate",
            "kwargs": {"domain": "example.com"},
            "channel": {"email": {"address": approver}},
            "schedule": [
                {"after_seconds": 1, "action": "remind"},
                {
                    "after_seconds": 2,
                    "action": "escalate",
                    "escalation_msg": "Still waiting: please decide.",
                    "additional_recipients": [{"address": boss}],
                },
                {"after_seconds": 3600, "action": "remind"},
            ],
        },
    }
    created = requests.post(
        f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10
    )
    assert created.status_code == 201, created.text
    first = mail_sink.wait_for_mail_to(approver)
    reminder = mail_sink.wait_for_mail_to(approver, count=2)
    assert reminder["In-Reply-To"] == first["Message-ID"]
    escalated = mail_sink.wait_for_mail_to(boss)
    assert "Still waiting: please decide." in text_body(escalated)
    assert escalated["In-Reply-To"] == first["Message-ID"]

    assert requests.post(link_after(escalated, "Approve:"), timeout=10).status_code == 200
    events = requests.get(
        f"{service.api_url}/function_calls/scheduled-1/events", headers=bearer(project_key), timeout=10
    ).json()
    kinds = [event["kind"] for event in events]
    assert kinds.index("reminded") < kinds.index("escalated") < kinds.index("decided")
    reminded = next(event for event in events if event["kind"] == "reminded")
    assert (reminded["actor"], reminded["channel"]) == ("signoff", "schedule")
    # The escalation named the boss alone, so the approver has the request and one reminder.
    assert len(mail_sink.messages_to(approver)) == 2


def test_a_schedule_step_without_its_fields_gets_a_422(service: RunningService, project_key: str) -> None:
    body = {
        "run_id": "schedules",
        "call_id": "scheduled-bad",
        "spec": {
            "msg": "Which region?",
            "channel": {"email": {"address": unique_address("bad-schedule")}},
            "schedule": [{"after_seconds": -1, "action": "remind"}],
        },
    }
    response = requests.post(
        f"{service.api_url}/contact_requests", json=body, headers=bearer(project_key), timeout=10
    )
    assert response.status_code == 422 and "after_seconds" in response.json()["detail"]
