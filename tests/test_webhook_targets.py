"""Webhooks cannot be pointed at the service's own network (loopback, private, link-local).

An API key's holder chooses the URL and the service makes the request: without this, a
stolen key reads the cloud metadata endpoint or pokes at the database's admin port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from signoff_testing import MailSink, RunningService, WebhookReceiver, link_after, unique_address, wait_until


@pytest.fixture
def guarded_service(
    private_database_url: str, mail_sink: MailSink, tmp_path: Path
) -> Iterator[RunningService]:
    running = RunningService.configure(private_database_url, mail_sink, tmp_path)
    running.env["SIGNOFF_WEBHOOK_PRIVATE_ADDRESSES"] = "false"
    yield running
    running.stop()


def _register(service: RunningService, key: str, url: str) -> requests.Response:
    return requests.post(
        f"{service.api_url}/webhooks",
        json={"url": url},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


PRIVATE_TARGETS = (
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "http://0.0.0.0/hook",
)


def test_private_targets_are_refused_at_registration(guarded_service: RunningService) -> None:
    guarded_service.start()
    key = guarded_service.write_key("guarded")
    for url in PRIVATE_TARGETS:
        refused = _register(guarded_service, key, url)
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["error"] == "invalid_request"
        detail = refused.json()["detail"]
        assert "private" in detail and "webhook_private_addresses" in detail, detail
    listed = requests.get(
        f"{guarded_service.api_url}/webhooks", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert listed.json() == []

    cli = guarded_service.run_cli("webhooks", "add", "--project", "guarded", "--url", PRIVATE_TARGETS[3])
    assert cli.returncode != 0 and "private" in cli.stderr


def test_a_hook_made_while_allowed_is_not_posted_once_private_targets_are_refused(
    guarded_service: RunningService,
    mail_sink: MailSink,
    webhook_receiver: tuple[WebhookReceiver, str],
) -> None:
    endpoint, url = webhook_receiver
    guarded_service.env["SIGNOFF_WEBHOOK_PRIVATE_ADDRESSES"] = "true"
    guarded_service.start()
    key = guarded_service.write_key("guarded")
    hook = _register(guarded_service, key, url)
    assert hook.status_code == 201
    endpoint.secret = hook.json()["secret"]
    guarded_service.stop()

    guarded_service.env["SIGNOFF_WEBHOOK_PRIVATE_ADDRESSES"] = "false"
    guarded_service.start()
    approver = unique_address("guarded")
    body = {
        "run_id": "guard",
        "call_id": "guarded-1",
        "spec": {"fn": "open_port", "kwargs": {}, "channel": {"email": {"address": approver}}},
    }
    headers = {"Authorization": f"Bearer {key}"}
    requests.post(f"{guarded_service.api_url}/function_calls", json=body, headers=headers, timeout=10)
    link = link_after(mail_sink.wait_for_mail_to(approver), "Approve:")
    assert requests.post(link, data={"text": ""}, timeout=10).status_code == 200

    deliveries_url = f"{guarded_service.api_url}/webhooks/{hook.json()['id']}/deliveries"

    def failed_delivery() -> dict | None:
        found = requests.get(deliveries_url, headers=headers, timeout=10).json()
        return found[0] if found and found[0]["status"] == "failed" else None

    delivery = wait_until(failed_delivery, what="the delivery to be refused")
    assert "private" in delivery["last_error"]  # type: ignore[index]
    assert endpoint.calls == 0
