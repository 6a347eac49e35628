"""The API's contract: `/openapi.json` describes every route, and the running service keeps to it.

schemathesis reads the document the service serves, generates requests from it (valid ones and
ones that break it) and checks each answer: never a 5xx, only documented status codes and
content types, documented headers present, bodies matching their schemas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from signoff_service.app import create_app
from signoff_service.config import load_settings
from signoff_service.context import Runtime

from signoff_testing import SECRET_KEY, RunningService, unique_address

EXAMPLES_PER_OPERATION = 25
IGNORED_METHODS = {"HEAD", "OPTIONS"}
ERROR_STATUSES = {"400", "401", "404", "409", "413", "422", "429"}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


def served_document(service: RunningService) -> dict:
    response = requests.get(f"{service.base_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_the_document_is_openapi_3_1_served_without_a_key(service: RunningService) -> None:
    document = served_document(service)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"error", "detail"}
    create = document["paths"]["/humanlayer/v1/function_calls"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_schema.rsplit("/", 1)[1].startswith("FunctionCall")
    assert {"200", "201"} <= set(create["responses"])
    assert create["responses"]["429"]["headers"]["Retry-After"]["required"] is True


def test_every_operation_documents_the_errors_it_can_give(service: RunningService) -> None:
    document = served_document(service)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert {"401", "429"} <= statuses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
            for status in statuses & ERROR_STATUSES:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def _as_openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^<>]*:)?(\w+)>", r"{\1}", rule)


def test_every_api_route_is_documented_and_every_documented_path_is_a_route(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "SIGNOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'routes.db'}",
            "SIGNOFF_SECRET_KEY": SECRET_KEY,
        }
    )
    runtime = Runtime.open(settings)
    try:
        app = create_app(runtime)
        routes = {
            (_as_openapi_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.")
            for method in rule.methods - IGNORED_METHODS
        }
        document = app.test_client().get("/openapi.json").get_json()
    finally:
        runtime.close()
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes, "the API has routes"
    assert routes - documented == set(), "routes missing from /openapi.json"
    assert documented - routes == set(), "documented operations the service does not have"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_service_keeps_to_its_document(
    service: RunningService, project_key: str, mode: GenerationMode, report_cases: Callable[[str], None]
) -> None:
    schema = schemathesis.openapi.from_url(f"{service.base_url}/openapi.json")
    auth = {"Authorization": f"Bearer {project_key}"}
    ran = 0
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        described = schema.raw_schema["paths"][operation.path][operation.method.lower()]
        if mode is GenerationMode.NEGATIVE and not (described["parameters"] or "requestBody" in described):
            continue  # nothing in the request to break

        @given(case=operation.as_strategy(generation_mode=mode, headers=auth))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            nonlocal ran
            ran += 1
            case.call_and_validate(base_url=service.base_url, session=session, checks=CHECKS, timeout=30)

        check()
    report_cases(f"schemathesis ({mode.value}) ran {ran} cases")
    assert ran >= EXAMPLES_PER_OPERATION


def _valid_walk(address: str, hook_url: str) -> list[tuple[str, str, dict]]:
    """A request for every operation that succeeds, in an order that makes each one succeed."""
    channel = {"email": {"address": address, "additional_recipients": [{"address": f"second.{address}"}]}}
    call = {
        "run_id": "contract",
        "call_id": "walk",
        "spec": {"fn": "ship", "kwargs": {"tag": "v1"}, "channel": channel},
    }
    contact = {"run_id": "contract", "call_id": "walk", "spec": {"msg": "Which tag?", "channel": channel}}
    escalation = {
        "escalation_msg": "Could you decide?",
        "additional_recipients": [{"address": f"third.{address}"}],
    }
    ids = {"call_id": "walk"}
    walk = []
    for kind, agent, body, answer in (
        ("function_calls", "function_calls", call, {"approved": False, "comment": "not tonight"}),
        ("contact_requests", "human_contacts", contact, {"response": "v2"}),
    ):
        walk += [
            ("POST", f"/{kind}", {"body": body}),
            ("POST", f"/{kind}", {"body": body}),
            ("GET", f"/{kind}/{{call_id}}", {"path_parameters": ids}),
            (
                "POST",
                f"/agent/{agent}/{{call_id}}/escalate_email",
                {"path_parameters": ids, "body": escalation},
            ),
            ("POST", f"/agent/{agent}/{{call_id}}/respond", {"path_parameters": ids, "body": answer}),
            ("GET", f"/{kind}/{{call_id}}", {"path_parameters": ids, "query": {"wait": 5}}),
            ("GET", f"/{kind}/{{call_id}}/events", {"path_parameters": ids}),
        ]
    return [
        *walk,
        ("POST", "/webhooks", {"body": {"url": hook_url}}),
        ("GET", "/webhooks", {}),
        ("GET", "/webhooks/{webhook_id}/deliveries", {"path_parameters": {"webhook_id": "HOOK"}}),
        ("DELETE", "/webhooks/{webhook_id}", {"path_parameters": {"webhook_id": "HOOK"}}),
        ("PUT", "/project/default_channel", {"body": {"slack": {"channel_or_user_id": "C0CONTRACT"}}}),
        ("GET", "/project/default_channel", {}),
        ("DELETE", "/project/default_channel", {}),
    ]


def test_valid_requests_to_every_operation_are_answered_as_documented(
    service: RunningService, project_key: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{service.base_url}/openapi.json")
    auth = {"Authorization": f"Bearer {project_key}"}
    done: set[tuple[str, str]] = set()
    hook_id = None
    for method, path, parts in _valid_walk(unique_address("contract"), "http://127.0.0.1:9/hook"):
        full_path = f"/humanlayer/v1{path}"
        if parts.get("path_parameters", {}).get("webhook_id") == "HOOK":
            parts = {"path_parameters": {"webhook_id": hook_id}}
        case = schema[full_path][method].Case(headers=auth, **parts)
        response = case.call_and_validate(base_url=service.base_url, checks=CHECKS, timeout=30)
        assert 200 <= response.status_code < 300, (method, path, response.text)
        if path == "/webhooks" and method == "POST":
            hook_id = response.json()["id"]
        done.add((full_path, method.lower()))
    documented = {
        (path, method) for path, item in served_document(service)["paths"].items() for method in item
    }
    assert done == documented
