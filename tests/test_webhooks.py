"""Webhooks: a project's URL gets every decision, timeout and escalation, signed and retried."""

from __future__ import annotations

import requests

from signoff_testing import MailSink, RunningService, WebhookReceiver, link_after, unique_address, wait_until


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def register(service: RunningService, key: str, url: str) -> dict:
    response = requests.post(
        f"{service.api_url}/webhooks", json={"url": url}, headers=bearer(key), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_decision_is_posted_signed_and_a_failing_endpoint_gets_it_again(
    service: RunningService,
    mail_sink: MailSink,
    project_key: str,
    webhook_receiver: tuple[WebhookReceiver, str],
) -> None:
    endpoint, url = webhook_receiver
    hook = register(service, project_key, url)
    endpoint.secret = hook["secret"]
    endpoint.fail_first = 1
    approver = unique_address("hooked")
    body = {
        "run_id": "hooks",
        "call_id": "hooked-1",
        "spec": {"fn": "ship_order", "kwargs": {"id": 7}, "channel": {"email": {"address": approver}}},
    }
    requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10)
    link = link_after(mail_sink.wait_for_mail_to(approver), "Approve:")
    assert requests.post(link, data={"text": "ship it"}, timeout=10).status_code == 200

    wait_until(lambda: endpoint.received, what="the webhook to arrive")
    [event] = endpoint.received
    assert event["event"] == "decided" and event["call_id"] == "hooked-1" and event["kind"] == "function_call"
    assert event["status"]["approved"] is True and event["status"]["comment"] == "ship it"
    assert event["actor"] == approver and event["channel"] == "link"
    assert endpoint.bad_signatures == 0 and endpoint.calls == 2

    def settled() -> list[dict]:
        # The worker records the delivery once the receiver's answer is back, a moment after it.
        found = requests.get(
            f"{service.api_url}/webhooks/{hook['id']}/deliveries", headers=bearer(project_key), timeout=10
        ).json()
        return found if found and found[0]["status"] != "pending" else []

    deliveries = wait_until(settled, what="the delivery to be recorded")
    assert [(d["event"], d["status"], d["attempts"]) for d in deliveries] == [("decided", "sent", 2)]  # type: ignore[union-attr]
    assert deliveries[0]["last_error"] is None  # cleared once delivered


def test_timeouts_and_escalations_are_posted_too(
    service: RunningService, project_key: str, webhook_receiver: tuple[WebhookReceiver, str]
) -> None:
    endpoint, url = webhook_receiver
    endpoint.secret = register(service, project_key, url)["secret"]
    body = {
        "run_id": "hooks",
        "call_id": "hooked-timeout",
        "spec": {
            "fn": "rotate",
            "kwargs": {},
            "channel": {"email": {"address": unique_address("hook-timeout")}},
            "timeout_seconds": 2,
        },
    }
    requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(project_key), timeout=10)
    escalation = {
        "escalation_msg": "Anyone?",
        "additional_recipients": [{"address": unique_address("hook-boss")}],
    }
    requests.post(
        f"{service.api_url}/agent/function_calls/hooked-timeout/escalate_email",
        json=escalation,
        headers=bearer(project_key),
        timeout=10,
    )
    wait_until(lambda: len(endpoint.received) >= 2, what="the escalation and the timeout")
    assert [event["event"] for event in endpoint.received] == ["escalated", "timed_out"]
    assert endpoint.received[1]["status"]["timed_out"] is True


def test_webhooks_are_listed_per_project_and_bad_urls_refused(
    service: RunningService, project_key: str
) -> None:
    hook = register(service, project_key, "https://hooks.example.com/signoff")
    listed = requests.get(f"{service.api_url}/webhooks", headers=bearer(project_key), timeout=10).json()
    assert [(h["id"], h["url"]) for h in listed] == [(hook["id"], "https://hooks.example.com/signoff")]
    assert "secret" not in listed[0]
    other = service.write_key("webhooks-other")
    assert requests.get(f"{service.api_url}/webhooks", headers=bearer(other), timeout=10).json() == []
    refused = requests.post(
        f"{service.api_url}/webhooks", json={"url": "ftp://x"}, headers=bearer(project_key), timeout=10
    )
    assert refused.status_code == 422 and "url" in refused.json()["detail"]
    deleted = requests.delete(f"{service.api_url}/webhooks/{hook['id']}", headers=bearer(other), timeout=10)
    assert deleted.status_code == 404


def test_signoff_webhooks_add_and_list(service: RunningService) -> None:
    added = service.run_cli("webhooks", "add", "--project", "cli-hooks", "--url", "https://example.com/h")
    assert added.returncode == 0, added.stderr
    assert "secret" in added.stdout
    listed = service.run_cli("webhooks", "list", "--project", "cli-hooks")
    assert "https://example.com/h" in listed.stdout
