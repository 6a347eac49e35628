"""A project's default contact channel: used when neither the call nor the SDK names one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from signoff import FunctionCallSpec

from signoff_testing import MailSink, Operator, RunningService, agent_layer, link_after, unique_address


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


def api(service: RunningService, key: str, method: str, body: dict | None = None) -> requests.Response:
    return requests.request(
        method,
        f"{service.api_url}/project/default_channel",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


@pytest.mark.parametrize(
    ("option", "target", "route"),
    [("--slack", "C0APPROVALS", "slack"), ("--discord", "112233445566778899", "discord")],
)
def test_set_channel_takes_a_slack_or_discord_channel(
    service: RunningService, project: tuple[str, str], option: str, target: str, route: str
) -> None:
    name, key = project
    set_channel(service, name, option, target)
    created = create(service, key, f"to-{route}")
    assert created.status_code == 201, created.text
    channel = created.json()["spec"]["channel"]
    assert channel[route]["channel_or_user_id"] == target
    assert channel["email"] is None


@pytest.mark.parametrize("options", [(), ("--email", "a@example.com", "--slack", "C1")])
def test_set_channel_wants_exactly_one_channel(
    service: RunningService, project: tuple[str, str], options: tuple[str, ...]
) -> None:
    result = service.run_cli("projects", "set-channel", "--project", project[0], *options)
    assert result.returncode == 2
    assert "exactly one of --email, --slack or --discord" in result.stderr


def test_the_default_channel_is_set_and_read_through_the_api(
    service: RunningService, mail_sink: MailSink, project: tuple[str, str]
) -> None:
    _, key = project
    assert api(service, key, "GET").status_code == 404
    owner = unique_address("api-owner")
    stored = api(service, key, "PUT", {"email": {"address": owner, "context_about_user": "the owner"}})
    assert stored.status_code == 200, stored.text
    assert stored.json()["email"]["address"] == owner
    assert api(service, key, "GET").json()["email"]["context_about_user"] == "the owner"
    assert create(service, key, "via-api-default").status_code == 201
    assert mail_sink.wait_for_mail_to(owner)["Subject"] == "Approval needed: deploy"
    assert api(service, key, "DELETE").status_code == 200
    assert api(service, key, "GET").status_code == 404
    assert create(service, key, "after-delete").status_code == 422


@pytest.mark.parametrize(
    "body",
    [{}, {"email": {"address": "not an address"}}, {"sms": {"phone_number": "+15550100"}}, {"slack": {}}],
)
def test_a_default_channel_signoff_cannot_deliver_to_is_refused(
    service: RunningService, project: tuple[str, str], body: dict
) -> None:
    refused = api(service, project[1], "PUT", body)
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_request"
    assert api(service, project[1], "GET").status_code == 404


def test_an_ask_only_key_cannot_move_the_default_and_other_projects_cannot_see_it(
    service: RunningService, project: tuple[str, str]
) -> None:
    name, key = project
    assert api(service, key, "PUT", {"slack": {"channel_or_user_id": "C0OWN"}}).status_code == 200
    ask_only = service.run_cli("keys", "create", "--project", name, "--ask-only").stdout.strip()
    refused = api(service, ask_only, "PUT", {"slack": {"channel_or_user_id": "C0ELSEWHERE"}})
    assert refused.status_code == 403
    assert api(service, ask_only, "GET").json()["slack"]["channel_or_user_id"] == "C0OWN"
    other = service.create_key(f"other-{unique_address('project')}")
    assert api(service, other, "GET").status_code == 404


def test_the_dashboard_shows_and_sets_a_projects_default_channel(
    service: RunningService, project: tuple[str, str]
) -> None:
    name, key = project
    operator = Operator(service)
    operator.login(key)
    page = operator.get("/projects")
    assert page.status_code == 200
    assert name in page.text and "No default channel" in page.text
    changed = operator.submit("/projects/default-channel", project=name, kind="slack", target="C0DASH")
    assert changed.status_code == 303
    assert "Slack C0DASH" in operator.get("/projects").text
    assert api(service, key, "GET").json()["slack"]["channel_or_user_id"] == "C0DASH"
    refused = operator.submit("/projects/default-channel", project=name, kind="email", target="nope")
    assert refused.status_code == 422
    assert "nope" in refused.text and "Slack C0DASH" in refused.text
    other = operator.submit("/projects/default-channel", project="someone-elses", kind="slack", target="C1")
    assert other.status_code == 404


def test_a_projects_bot_tokens_are_set_and_never_printed(
    service: RunningService, project: tuple[str, str]
) -> None:
    name, _ = project
    result = service.run_cli(
        "projects", "set-token", "--project", name, "--slack-bot-token", "xoxb-test-token-1234567890"
    )
    assert result.returncode == 0, result.stderr
    assert "xoxb-test-token-1234567890" not in result.stdout + result.stderr
    assert "Slack bot token set" in result.stdout
    missing = service.run_cli("projects", "set-token", "--project", name)
    assert missing.returncode == 2
