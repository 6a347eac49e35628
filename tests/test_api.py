"""The REST API as a client sees it: HumanLayer's wire format, JSON errors, long-polls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from signoff_testing import WAIT_SECONDS, MailSink, RunningService, html_body, text_body, unique_address


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def function_call_body(call_id: str, address: str, **spec: object) -> dict:
    return {
        "run_id": "api-test",
        "call_id": call_id,
        "spec": {
            "fn": "send_invoice",
            "kwargs": {"customer": "ACME"},
            "channel": {"email": {"address": address}},
        }
        | spec,
    }


def create(service: RunningService, key: str, body: dict, kind: str = "function_calls") -> requests.Response:
    return requests.post(f"{service.api_url}/{kind}", json=body, headers=bearer(key), timeout=10)


@pytest.mark.parametrize(
    ("body", "status", "error", "detail_mentions"),
    [
        ("not json", 400, "invalid_json", "JSON object"),
        ([1, 2], 400, "invalid_json", "JSON object"),
        ({"run_id": "r", "call_id": "c"}, 422, "invalid_request", "spec"),
        ({"run_id": "r", "call_id": "c", "spec": {"fn": "f", "kwargs": {}}}, 422, "invalid_request", "email"),
        (
            {
                "run_id": "r",
                "call_id": "c",
                "spec": {"fn": "f", "kwargs": {}, "channel": {"email": {"address": "x"}}},
            },
            422,
            "invalid_request",
            "not a valid email address",
        ),
        (
            {"run_id": "r", "call_id": "", "spec": {"fn": "f", "kwargs": {}}},
            422,
            "invalid_request",
            "call_id",
        ),
    ],
    ids=["text-body", "json-array", "no-spec", "no-email-channel", "bad-address", "empty-call-id"],
)
def test_bad_bodies_get_json_errors_that_say_what_is_wrong(
    service: RunningService, project_key: str, body: object, status: int, error: str, detail_mentions: str
) -> None:
    if isinstance(body, str):
        response = requests.post(
            f"{service.api_url}/function_calls",
            data=body,
            headers={**bearer(project_key), "Content-Type": "application/json"},
            timeout=10,
        )
    else:
        response = create(service, project_key, body)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert detail_mentions in response.json()["detail"]


def test_unknown_routes_and_methods_answer_json(service: RunningService, project_key: str) -> None:
    missing = requests.get(f"{service.api_url}/no_such_thing", headers=bearer(project_key), timeout=10)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong_method = requests.delete(
        f"{service.api_url}/function_calls/x", headers=bearer(project_key), timeout=10
    )
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"error", "detail"}
    bad_key = requests.get(f"{service.api_url}/function_calls/x", headers=bearer("sgf_wrong"), timeout=10)
    assert bad_key.status_code == 401 and bad_key.json()["error"] == "unauthorized"


def test_creating_twice_with_one_call_id_returns_the_first_and_mails_once(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("idempotent")
    first = create(service, project_key, function_call_body("same-call", address))
    second = create(
        service, project_key, function_call_body("same-call", address, kwargs={"customer": "OTHER"})
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert second.json()["spec"]["kwargs"] == {"customer": "ACME"}
    mail_sink.wait_for_mail_to(address)
    # The outbox sends each row once; a later, unrelated request proves the first has been flushed.
    marker = unique_address("marker")
    create(service, project_key, function_call_body("marker-call", marker))
    mail_sink.wait_for_mail_to(marker)
    assert len(mail_sink.messages_to(address)) == 1


@pytest.mark.parametrize("wait", ["abc", "61", "-1", "nan", "inf"])
def test_wait_must_be_a_number_of_seconds_up_to_sixty(
    service: RunningService, project_key: str, wait: str
) -> None:
    address = unique_address("waiter")
    create(service, project_key, function_call_body(f"wait-{wait}", address))
    response = requests.get(
        f"{service.api_url}/function_calls/wait-{wait}",
        params={"wait": wait},
        headers=bearer(project_key),
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request" and "wait" in response.json()["detail"]


def test_decimal_wait_returns_the_pending_state_when_nobody_decides(
    service: RunningService, project_key: str
) -> None:
    create(service, project_key, function_call_body("decimal-wait", unique_address("decimal")))
    response = requests.get(
        f"{service.api_url}/function_calls/decimal-wait",
        params={"wait": "0.25"},
        headers=bearer(project_key),
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["status"]["approved"] is None
    assert not any(name.lower().startswith("x-signoff") for name in response.headers)


@pytest.mark.parametrize("kind", ["function_calls", "contact_requests"])
def test_a_long_poll_answers_when_the_request_is_decided(
    service: RunningService, project_key: str, kind: str
) -> None:
    call_id = f"long-poll-{kind}"
    address = unique_address("longpoll")
    if kind == "function_calls":
        body = function_call_body(call_id, address)
        respond_path, answer = f"agent/function_calls/{call_id}/respond", {"approved": False}
    else:
        body = {
            "run_id": "r",
            "call_id": call_id,
            "spec": {"msg": "Ship it?", "channel": {"email": {"address": address}}},
        }
        respond_path, answer = f"agent/human_contacts/{call_id}/respond", {"response": "Ship it Monday."}
    assert create(service, project_key, body, kind).status_code == 201

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(
            requests.get,
            f"{service.api_url}/{kind}/{call_id}",
            params={"wait": str(WAIT_SECONDS)},
            headers=bearer(project_key),
            timeout=WAIT_SECONDS + 10,
        )
        responded = requests.post(
            f"{service.api_url}/{respond_path}", json=answer, headers=bearer(project_key), timeout=10
        )
        assert responded.status_code == 200
        status = waiting.result(timeout=WAIT_SECONDS + 10).json()["status"]

    if kind == "function_calls":
        # A rejection always carries a string comment: HumanLayer's client depends on it.
        assert (status["approved"], status["comment"]) == (False, "")
    else:
        assert status["response"] == "Ship it Monday."
    assert status["responded_at"] is not None


def test_a_second_answer_is_refused_and_the_first_stands(service: RunningService, project_key: str) -> None:
    create(service, project_key, function_call_body("answer-once", unique_address("once")))
    url = f"{service.api_url}/agent/function_calls/answer-once/respond"
    first = requests.post(
        url, json={"approved": True, "comment": "fine"}, headers=bearer(project_key), timeout=10
    )
    second = requests.post(
        url, json={"approved": False, "comment": "no"}, headers=bearer(project_key), timeout=10
    )
    assert first.status_code == 200 and first.json()["status"]["approved"] is True
    assert second.status_code == 409 and second.json()["error"] == "already_responded"
    current = requests.get(
        f"{service.api_url}/function_calls/answer-once", headers=bearer(project_key), timeout=10
    )
    assert (current.json()["status"]["approved"], current.json()["status"]["comment"]) == (True, "fine")
    undecided = requests.post(
        f"{service.api_url}/agent/function_calls/answer-once/respond",
        json={},
        headers=bearer(project_key),
        timeout=10,
    )
    assert undecided.status_code == 422 and "approved" in undecided.json()["detail"]


def test_everything_an_agent_sends_is_escaped_and_cannot_add_headers(
    service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    address = unique_address("escape")
    body = function_call_body(
        "hostile",
        address,
        fn="pay\r\nBcc: thief@example.com",
        kwargs={"note": "<script>alert(1)</script>", "nested": {"html": "<img src=x onerror=alert(2)>"}},
    )
    assert create(service, project_key, body).status_code == 201
    message = mail_sink.wait_for_mail_to(address)

    assert message["Bcc"] is None and "\n" not in str(message["Subject"])
    assert mail_sink.messages_to("thief@example.com") == []
    html = html_body(message)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "<script>alert(1)</script>" in text_body(message)
