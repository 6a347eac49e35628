"""An agent's key that can ask but not answer: a confused or malicious agent cannot approve itself.

The v1 API lets the holder of a project's key decide a request (`.../respond`), which the
official client uses for its own CLI mode. A key made with `--ask-only` is refused there,
so an agent holding it must wait for a person.
"""

from __future__ import annotations

import requests

from signoff_testing import MailSink, RunningService, link_after, unique_address


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ask(service: RunningService, key: str, call_id: str, approver: str) -> None:
    body = {
        "run_id": "scopes",
        "call_id": call_id,
        "spec": {"fn": "wire_money", "kwargs": {"amount": 10}, "channel": {"email": {"address": approver}}},
    }
    created = requests.post(f"{service.api_url}/function_calls", json=body, headers=_bearer(key), timeout=10)
    assert created.status_code == 201, created.text


def test_an_ask_only_key_asks_but_cannot_decide(service: RunningService, mail_sink: MailSink) -> None:
    project = f"scopes-{unique_address('p')}"
    agent_key = service.run_cli("keys", "create", "--project", project, "--ask-only").stdout.strip()
    approver = unique_address("scoped")
    _ask(service, agent_key, "self-approval", approver)
    message = mail_sink.wait_for_mail_to(approver)

    for path, body in (
        ("function_calls/self-approval/respond", {"approved": True, "comment": "fine by me"}),
        ("human_contacts/self-approval/respond", {"response": "yes"}),
    ):
        refused = requests.post(
            f"{service.api_url}/agent/{path}", json=body, headers=_bearer(agent_key), timeout=10
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "forbidden"
        assert "ask-only" in refused.json()["detail"]
    status = requests.get(
        f"{service.api_url}/function_calls/self-approval", headers=_bearer(agent_key), timeout=10
    ).json()["status"]
    assert status["approved"] is None and status["responded_at"] is None

    # A person still decides by the emailed link, and the agent reads the outcome.
    assert requests.post(link_after(message, "Approve:"), data={"text": ""}, timeout=10).status_code == 200
    status = requests.get(
        f"{service.api_url}/function_calls/self-approval", headers=_bearer(agent_key), timeout=10
    ).json()["status"]
    assert status["approved"] is True

    listing = service.run_cli("keys", "list", "--project", project)
    assert "ask-only" in next(line for line in listing.stdout.splitlines() if agent_key[:12] in line)


def test_a_full_key_still_decides_through_the_api(service: RunningService, project_key: str) -> None:
    _ask(service, project_key, "operator-decides", unique_address("full"))
    decided = requests.post(
        f"{service.api_url}/agent/function_calls/operator-decides/respond",
        json={"approved": False, "comment": "not today"},
        headers=_bearer(project_key),
        timeout=10,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"]["approved"] is False
