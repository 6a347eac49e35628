"""The audit trail: what happened to a request, when, by whom and through which channel."""

from __future__ import annotations

import json

import pytest
import requests

from signoff_testing import MailSink, RunningService, link_after, unique_address, wait_until


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def events_of(service: RunningService, key: str, call_id: str) -> list[dict]:
    response = requests.get(
        f"{service.api_url}/function_calls/{call_id}/events", headers=bearer(key), timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_created_emailed_escalated_and_decided_are_on_the_trail(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver, boss = unique_address("audited"), unique_address("audited-boss")
    body = {
        "run_id": "audit-run",
        "call_id": "audited-1",
        "spec": {"fn": "wire_money", "kwargs": {"to": "ACME"}, "channel": {"email": {"address": approver}}},
    }
    requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10)
    mail_sink.wait_for_mail_to(approver)
    escalation = {"escalation_msg": "Please look", "additional_recipients": [{"address": boss}]}
    escalated = requests.post(
        f"{service.api_url}/agent/function_calls/audited-1/escalate_email",
        json=escalation,
        headers=bearer(project_key),
        timeout=10,
    )
    assert escalated.status_code == 200
    message = mail_sink.wait_for_mail_to(boss)
    assert requests.post(link_after(message, "Approve:"), timeout=10).status_code == 200

    trail = wait_until(
        lambda: (
            [e for e in events_of(service, project_key, "audited-1") if e["kind"] == "emailed"][1:]
            and events_of(service, project_key, "audited-1")
        ),
        what="both emails on the trail",
    )
    kinds = [event["kind"] for event in trail]  # type: ignore[union-attr]
    assert kinds[0] == "created" and kinds.count("emailed") == 2
    assert "escalated" in kinds and kinds[-1] == "decided"
    by_kind = {event["kind"]: event for event in trail}  # type: ignore[union-attr]
    assert by_kind["created"]["actor"] == "run audit-run" and by_kind["created"]["channel"] == "api"
    assert by_kind["escalated"]["detail"]["added"] == [boss]
    assert (by_kind["decided"]["actor"], by_kind["decided"]["channel"]) == (boss, "link")
    assert by_kind["decided"]["detail"]["approved"] is True
    assert all(event["at"].endswith("Z") or "+00:00" in event["at"] for event in trail)  # type: ignore[union-attr]


def test_another_projects_key_sees_no_trail(service: RunningService, project_key: str) -> None:
    body = {
        "run_id": "r",
        "call_id": "audited-private",
        "spec": {"fn": "f", "kwargs": {}, "channel": {"email": {"address": unique_address("private")}}},
    }
    requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10)
    other = service.write_key("audit-other-project")
    response = requests.get(
        f"{service.api_url}/function_calls/audited-private/events", headers=bearer(other), timeout=10
    )
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_signoff_audit_export_writes_json_lines(
    service: RunningService, project_key: str, request: pytest.FixtureRequest
) -> None:
    body = {
        "run_id": "export-run",
        "call_id": "exported-1",
        "spec": {
            "fn": "export_me",
            "kwargs": {},
            "channel": {"email": {"address": unique_address("export")}},
        },
    }
    requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10)
    respond = requests.post(
        f"{service.api_url}/agent/function_calls/exported-1/respond",
        json={"approved": False, "comment": "not today"},
        headers=bearer(project_key),
        timeout=10,
    )
    assert respond.status_code == 200
    output = service.workdir / "audit.jsonl"
    project = f"project-{request.node.name}"  # the project `project_key` made
    result = service.run_cli("audit", "export", "--project", project, "--output", str(output))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    ours = [line for line in lines if line["call_id"] == "exported-1"]
    assert ours[0]["kind"] == "created"
    [decided] = [line for line in ours if line["kind"] == "decided"]
    assert (decided["actor"], decided["channel"], decided["detail"]["approved"]) == ("api", "api", False)
    assert {line["project"] for line in lines} == {project}
    assert {"at", "project", "kind", "call_id", "run_id", "actor", "channel", "detail"} <= set(ours[0])


def test_opening_a_link_is_on_the_trail_and_decides_nothing(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("opener")
    body = {
        "run_id": "audit-run",
        "call_id": "opened-1",
        "spec": {"fn": "close_account", "kwargs": {}, "channel": {"email": {"address": approver}}},
    }
    requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10)
    link = link_after(mail_sink.wait_for_mail_to(approver), "Approve:")
    assert requests.get(link, timeout=10).status_code == 200  # a person, or a mail scanner
    opened = [event for event in events_of(service, project_key, "opened-1") if event["kind"] == "opened"]
    assert [(e["actor"], e["channel"], e["detail"]["action"]) for e in opened] == [
        (approver, "link", "approve")
    ]
    status = requests.get(
        f"{service.api_url}/function_calls/opened-1", headers=bearer(project_key), timeout=10
    )
    assert status.json()["status"]["approved"] is None
