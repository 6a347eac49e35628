"""Timeouts run by the server: a request nobody answers in time gets an outcome of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from test_official_client import official_venv  # noqa: F401  (the fixture, built once per session)

from signoff import ApprovalTimedOutError, describe_duration

from signoff_testing import MailSink, RunningService, agent_layer, link_after, links_in, unique_address
from signoff_venvs import run_python


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_call(service: RunningService, key: str, call_id: str, address: str, **spec: object) -> dict:
    body = {
        "run_id": "timeouts",
        "call_id": call_id,
        "spec": {"fn": "purge_cache", "kwargs": {}, "channel": {"email": {"address": address}}} | spec,
    }
    response = requests.post(f"{service.api_url}/function_calls", json=body, headers=bearer(key), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def wait_for(service: RunningService, key: str, call_id: str) -> dict:
    url = f"{service.api_url}/function_calls/{call_id}?wait=10"
    return requests.get(url, headers=bearer(key), timeout=20).json()


@pytest.mark.parametrize(
    ("seconds", "text"), [(1, "1 s"), (0.5, "0.5 s"), (90, "1 min 30 s"), (7200, "2 h"), (86400 * 2, "2 d")]
)
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    assert describe_duration(seconds) == text


def test_a_request_nobody_answers_is_rejected_as_timed_out_and_its_link_says_so(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("timeout")
    create_call(service, project_key, "t-reject", approver, timeout_seconds=1)
    decided = wait_for(service, project_key, "t-reject")
    assert decided["status"]["approved"] is False
    assert decided["status"]["timed_out"] is True
    assert decided["status"]["comment"] == "No one responded to purge_cache within 1 s"

    link = link_after(mail_sink.wait_for_mail_to(approver), "Approve:")
    page = requests.get(link, timeout=10)
    assert "No one answered in time" in page.text
    late = requests.post(link, timeout=10)
    assert late.status_code == 409 and "No one answered in time" in late.text
    assert wait_for(service, project_key, "t-reject")["status"]["approved"] is False


def test_on_timeout_approve_approves_only_where_the_request_says_so(
    service: RunningService, project_key: str
) -> None:
    create_call(
        service,
        project_key,
        "t-approve",
        unique_address("t-approve"),
        timeout_seconds=1,
        on_timeout="approve",
    )
    decided = wait_for(service, project_key, "t-approve")
    assert (decided["status"]["approved"], decided["status"]["timed_out"]) == (True, True)


def test_an_answer_in_time_is_not_a_timeout(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    approver = unique_address("in-time")
    create_call(service, project_key, "t-in-time", approver, timeout_seconds=3)
    assert (
        requests.post(link_after(mail_sink.wait_for_mail_to(approver), "Approve:"), timeout=10).status_code
        == 200
    )
    decided = wait_for(service, project_key, "t-in-time")
    assert (decided["status"]["approved"], decided["status"]["timed_out"]) == (True, None)


@pytest.mark.parametrize("body", [{"timeout_seconds": 0}, {"timeout_seconds": -5}, {"on_timeout": "maybe"}])
def test_bad_timeouts_get_a_422_that_names_the_field(
    service: RunningService, project_key: str, body: dict
) -> None:
    request = {
        "run_id": "timeouts",
        "call_id": "t-bad",
        "spec": {"fn": "f", "kwargs": {}, "channel": {"email": {"address": "a@example.com"}}} | body,
    }
    response = requests.post(
        f"{service.api_url}/function_calls", json=request, headers=bearer(project_key), timeout=10
    )
    assert response.status_code == 422
    assert next(iter(body)) in response.json()["detail"]


def test_the_sdk_hands_the_model_a_sentence_and_code_an_error(
    service: RunningService, project_key: str
) -> None:
    hl = agent_layer(service, project_key, unique_address("sdk-timeout"))

    @hl.require_approval(timeout_seconds=1)
    def drop_index(name: str) -> str:
        return f"dropped {name}"

    assert drop_index(name="ix_old") == "No one responded to drop_index within 1 s"

    @hl.require_approval(timeout_seconds=1, on_timeout="raise")
    def rebuild_index(name: str) -> str:
        return f"rebuilt {name}"

    with pytest.raises(ApprovalTimedOutError, match="No one responded to rebuild_index within 1 s"):
        rebuild_index(name="ix_new")

    @hl.require_approval(timeout_seconds=1, on_timeout="approve")
    def vacuum(table: str) -> str:
        return f"vacuumed {table}"

    assert vacuum(table="events") == "vacuumed events"


OFFICIAL_READS_IT = """
import json, sys
from humanlayer import HumanLayer

call = HumanLayer(run_id="timeouts").get_function_call(sys.argv[1])
completed = call.status.as_completed()
print(json.dumps({"approved": completed.approved, "comment": completed.comment}))
"""


def test_the_official_client_sees_a_timed_out_request_as_decided(
    service: RunningService,
    project_key: str,
    official_venv: Path,  # noqa: F811
) -> None:
    create_call(service, project_key, "t-official", unique_address("t-official"), timeout_seconds=1)
    wait_for(service, project_key, "t-official")
    env = {"HUMANLAYER_API_KEY": project_key, "HUMANLAYER_API_BASE": service.api_url}
    finished = run_python(official_venv, OFFICIAL_READS_IT, "t-official", env=env, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().splitlines()[-1] == (
        '{"approved": false, "comment": "No one responded to purge_cache within 1 s"}'
    )


def test_a_question_nobody_answers_in_time_tells_the_agent_so(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("question-timeout")
    ask = agent_layer(service, project_key, person).human_as_tool(timeout_seconds=1)
    assert ask("Which region should we use?") == "No one responded to the question within 1 s"

    [link] = links_in(mail_sink.wait_for_mail_to(person))
    late = requests.post(link, data={"text": "eu-west"}, timeout=10)
    assert late.status_code == 409 and "No one answered in time" in late.text
