"""A project's default contact channel: used when neither the call nor the SDK names one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from signoff import FunctionCallSpec

from signoff_testing import MailSink, RunningService, agent_layer, link_after, unique_address


@pytest.fixture
def project(service: RunningService) -> tuple[str, str]:
    """A new project of this test's own, and a key for it."""
    name = f"channels-{unique_address('project')}"
    return name, service.write_key(name)


def set_channel(service: RunningService, project: str, *options: str) -> None:
    result = service.run_cli("projects", "set-channel", "--project", project, *options)
    assert result.returncode == 0, result.stderr


def create(service: RunningService, key: str, call_id: str, channel: dict | None = None) -> requests.Response:
    spec: dict = {"fn": "deploy", "kwargs": {"env": "prod"}}
    if channel is not None:
        spec["channel"] = channel
    return requests.post(
        f"{service.api_url}/function_calls",
        json={"run_id": "default-channel", "call_id": call_id, "spec": spec},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def test_a_call_without_a_channel_goes_to_the_project_default(
    service: RunningService, mail_sink: MailSink, project: tuple[str, str]
) -> None:
    name, key = project
    owner = unique_address("owner")
    set_channel(service, name, "--email", owner)
    hl = agent_layer(service, key, None)

    @hl.require_approval()
    def deploy(env: str) -> str:
        return f"deployed to {env}"

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(deploy, "prod")
        page = link_after(mail_sink.wait_for_mail_to(owner), "Approve:")
        assert requests.post(page, data={"text": ""}, timeout=10).status_code == 200
        assert running.result(timeout=30) == "deployed to prod"


def test_the_sdks_channel_and_the_calls_channel_win_over_the_default(
    service: RunningService, mail_sink: MailSink, project: tuple[str, str]
) -> None:
    name, key = project
    owner, instance, call = (unique_address(who) for who in ("owner", "instance", "call"))
    set_channel(service, name, "--email", owner)
    assert create(service, key, "per-call", {"email": {"address": call}}).status_code == 201
    assert mail_sink.wait_for_mail_to(call)["Subject"] == "Approval needed: deploy"
    hl = agent_layer(service, key, instance)
    hl.create_function_call(FunctionCallSpec(fn="deploy", kwargs={"env": "staging"}), call_id="per-instance")
    mail_sink.wait_for_mail_to(instance)
    assert mail_sink.messages_to(owner) == []


def test_no_channel_anywhere_gets_a_422_that_says_how_to_set_one(
    service: RunningService, project: tuple[str, str]
) -> None:
    refused = create(service, project[1], "nowhere")
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "invalid_request"
    assert "signoff projects set-channel" in body["detail"]


def test_set_channel_refuses_an_address_that_is_not_one(
    service: RunningService, project: tuple[str, str]
) -> None:
    result = service.run_cli("projects", "set-channel", "--project", project[0], "--email", "not an address")
    assert result.returncode != 0
    assert "not an address" in result.stderr
