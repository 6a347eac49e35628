"""The API's limits as a client meets them: body size, argument size, recipients, requests per minute.

The module runs a service of its own with small limits, so the numbers are easy to cross (each
test with a project of its own), and checks that a refused request left nothing behind: no
stored request and no email.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from signoff_service.store.models import HumanRequest

from signoff_testing import SQLITE_ONLY, MailSink, RunningService, unique_address

# Every test here runs on one worker (--dist loadgroup), so that
# its service with small limits is started once a store, not on each worker.
pytestmark = pytest.mark.xdist_group("api-limits")

MAX_REQUEST_BYTES = 20_000
MAX_ARGUMENT_BYTES = 2_000
MAX_RECIPIENTS = 3
REQUESTS_PER_MINUTE = 12

Limited = tuple[RunningService, str]


SMALL_LIMITS = {
    "SIGNOFF_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
    "SIGNOFF_MAX_ARGUMENT_BYTES": str(MAX_ARGUMENT_BYTES),
    "SIGNOFF_MAX_RECIPIENTS": str(MAX_RECIPIENTS),
}


@pytest.fixture(scope="module")
def limited_service(
    module_database_url: str, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    running = RunningService.configure(module_database_url, mail_sink, tmp_path_factory.mktemp("limited"))
    running.env.update(SMALL_LIMITS)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def limited(limited_service: RunningService, request: pytest.FixtureRequest) -> Limited:
    """The service with the small limits above, and a key of a project of the test's own."""
    return limited_service, limited_service.write_key(f"limits-{request.node.name}")


@pytest.fixture
def rate_limited(private_database_url: str, mail_sink: MailSink, tmp_path: Path) -> Iterator[RunningService]:
    """A service of the test's own, allowing each key REQUESTS_PER_MINUTE."""
    running = RunningService.configure(private_database_url, mail_sink, tmp_path)
    running.env.update(SMALL_LIMITS, SIGNOFF_API_REQUESTS_PER_MINUTE=str(REQUESTS_PER_MINUTE))
    running.start()
    yield running
    running.stop()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def call_body(call_id: str, address: str, kwargs: dict | None = None, **email: object) -> dict:
    return {
        "run_id": "limits",
        "call_id": call_id,
        "spec": {
            "fn": "wire_money",
            "kwargs": {"amount": 10} if kwargs is None else kwargs,
            "channel": {"email": {"address": address, **email}},
        },
    }


def post(service: RunningService, key: str, path: str, body: object) -> requests.Response:
    return requests.post(f"{service.api_url}/{path}", json=body, headers=bearer(key), timeout=10)


def assert_refused(response: requests.Response, status: int, error: str, *mentions: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    for mention in mentions:
        assert mention in body["detail"], body["detail"]


def assert_left_nothing(
    service: RunningService, key: str, mail_sink: MailSink, call_id: str | None, *refused: str
) -> None:
    """The refused request was not stored (when it was a new one), and none of its people mailed.

    A request accepted after the refused one is mailed, so mail for the refused one would be
    out by then too.
    """
    if call_id is not None:
        assert call_id not in {row.call_id for row in service.rows(HumanRequest)}
    control = unique_address("control")
    accepted = post(service, key, "function_calls", call_body(f"control-{control}", control))
    assert accepted.status_code == 201, accepted.text
    mail_sink.wait_for_mail_to(control)
    for address in refused:
        assert mail_sink.messages_to(address) == [], address


def test_a_body_over_max_request_bytes_gets_a_json_413_naming_the_limit(
    limited: Limited, mail_sink: MailSink
) -> None:
    service, key = limited
    address = unique_address("big-body")
    body = call_body("too-big", address, kwargs={"blob": "x" * (MAX_REQUEST_BYTES + 100)})
    response = post(service, key, "function_calls", body)
    assert_refused(response, 413, "payload_too_large", "max_request_bytes", str(MAX_REQUEST_BYTES))
    assert_left_nothing(service, key, mail_sink, "too-big", address)


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("function_calls", {"kwargs": {"notes": "n" * MAX_ARGUMENT_BYTES}}),
        ("function_calls", {"kwargs": {"rows": [{"id": i, "name": "row"} for i in range(200)]}}),
        ("contact_requests", {"msg": "m" * (MAX_ARGUMENT_BYTES + 1)}),
        ("contact_requests", {"msg": "Pick one", "subject": "s" * MAX_ARGUMENT_BYTES}),
        (
            "contact_requests",
            {
                "msg": "Pick one",
                "response_options": [{"name": f"o{i}", "title": "t" * 100} for i in range(25)],
            },
        ),
    ],
    ids=["long-kwarg", "many-kwargs", "long-msg", "long-subject", "many-options"],
)
def test_arguments_over_max_argument_bytes_get_413_naming_the_limit(
    limited: Limited, mail_sink: MailSink, path: str, content: dict
) -> None:
    service, key = limited
    address = unique_address("big-arguments")
    body = call_body("big-arguments", address)
    if path == "contact_requests":
        body["spec"] = {"channel": body["spec"]["channel"]}
    body["spec"].update(content)
    assert len(str(body)) < MAX_REQUEST_BYTES, "the body itself must stay under max_request_bytes"
    response = post(service, key, path, body)
    assert_refused(response, 413, "payload_too_large", "max_argument_bytes", str(MAX_ARGUMENT_BYTES))
    assert_left_nothing(service, key, mail_sink, "big-arguments", address)


def test_arguments_just_under_the_limit_are_accepted(limited: Limited, mail_sink: MailSink) -> None:
    service, key = limited
    address = unique_address("fits")
    response = post(service, key, "function_calls", call_body("fits", address, kwargs={"notes": "n" * 1000}))
    assert response.status_code == 201, response.text
    mail_sink.wait_for_mail_to(address)


def test_an_escalation_message_over_max_argument_bytes_is_refused(
    limited: Limited, mail_sink: MailSink
) -> None:
    service, key = limited
    first, second = unique_address("first"), unique_address("second")
    assert post(service, key, "function_calls", call_body("escalate-big", first)).status_code == 201
    mail_sink.wait_for_mail_to(first)
    escalation = {
        "escalation_msg": "e" * (MAX_ARGUMENT_BYTES + 1),
        "additional_recipients": [{"address": second}],
    }
    response = post(service, key, "agent/function_calls/escalate-big/escalate_email", escalation)
    assert_refused(response, 413, "payload_too_large", "max_argument_bytes")
    assert_left_nothing(service, key, mail_sink, None, second)
    assert len(mail_sink.messages_to(first)) == 1


@pytest.mark.parametrize(
    "extra_fields",
    [("to", "cc", "bcc"), (None, None, None), ("cc", "cc", "to")],
    ids=["to-cc-bcc", "plain-additional", "mixed"],
)
def test_more_recipients_than_max_recipients_get_422_naming_the_limit(
    limited: Limited, mail_sink: MailSink, extra_fields: tuple[str | None, ...]
) -> None:
    service, key = limited
    main = unique_address("main")
    extra = [
        {"address": unique_address(f"extra{i}"), **({"field": field} if field else {})}
        for i, field in enumerate(extra_fields)
    ]
    response = post(service, key, "function_calls", call_body("crowd", main, additional_recipients=extra))
    assert_refused(response, 422, "invalid_request", "max_recipients", str(MAX_RECIPIENTS))
    assert_left_nothing(
        service, key, mail_sink, "crowd", main, *(recipient["address"] for recipient in extra)
    )


def test_schedule_escalations_count_towards_max_recipients(limited: Limited, mail_sink: MailSink) -> None:
    service, key = limited
    main = unique_address("main")
    body = call_body("scheduled-crowd", main, additional_recipients=[{"address": unique_address("two")}])
    body["spec"]["schedule"] = [
        {
            "after_seconds": 3600,
            "action": "escalate",
            "additional_recipients": [
                {"address": unique_address("three")},
                {"address": unique_address("four")},
            ],
        }
    ]
    response = post(service, key, "function_calls", body)
    assert_refused(response, 422, "invalid_request", "max_recipients", str(MAX_RECIPIENTS))
    assert_left_nothing(service, key, mail_sink, "scheduled-crowd", main)


def test_an_escalation_past_max_recipients_is_refused_and_mails_nobody(
    limited: Limited, mail_sink: MailSink
) -> None:
    service, key = limited
    first, second = unique_address("first"), unique_address("second")
    body = call_body("escalate-crowd", first, additional_recipients=[{"address": second}])
    assert post(service, key, "function_calls", body).status_code == 201
    mail_sink.wait_for_mail_to(first)
    newcomers = [unique_address("third"), unique_address("fourth")]
    escalation = {
        "escalation_msg": "Could one of you decide?",
        "additional_recipients": [{"address": address} for address in newcomers],
    }
    response = post(service, key, "agent/function_calls/escalate-crowd/escalate_email", escalation)
    assert_refused(response, 422, "invalid_request", "max_recipients", str(MAX_RECIPIENTS))
    assert_left_nothing(service, key, mail_sink, None, *newcomers)
    assert len(mail_sink.messages_to(first)) == 1
    state = requests.get(f"{service.api_url}/function_calls/escalate-crowd", headers=bearer(key), timeout=10)
    assert state.json()["status"]["approved"] is None


@SQLITE_ONLY
def test_each_api_key_is_rate_limited_with_retry_after_and_then_recovers(
    rate_limited: RunningService, mail_sink: MailSink
) -> None:
    service = rate_limited
    key, other_key = service.write_key("busy"), service.write_key("calm")
    for _ in range(REQUESTS_PER_MINUTE):
        assert requests.get(f"{service.api_url}/webhooks", headers=bearer(key), timeout=10).status_code == 200
    address = unique_address("limited")
    refused = post(service, key, "function_calls", call_body("over-the-limit", address))
    assert_refused(refused, 429, "rate_limited")
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60 / REQUESTS_PER_MINUTE + 1

    # Another project's key has a bucket of its own.
    assert (
        requests.get(f"{service.api_url}/webhooks", headers=bearer(other_key), timeout=10).status_code == 200
    )

    time.sleep(retry_after)
    assert_left_nothing(service, key, mail_sink, "over-the-limit", address)
    log = service.log_path.read_text()
    assert key not in log and other_key not in log
