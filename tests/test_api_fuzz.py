"""Hostile JSON against the running API: whatever arrives, a 2xx or a clear 4xx JSON error.

hypothesis builds the bodies a careless or malicious client sends: nesting thousands deep,
huge strings, wrong types, lone surrogates, NaN and Infinity, duplicate keys, bytes that are
not UTF-8, the wrong content type, unknown fields, and path ids made of anything. The service
must never answer 5xx and never HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signoff_testing import RunningService

EXAMPLES = 40
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BODY_PATHS = [
    "function_calls",
    "contact_requests",
    "agent/function_calls/fuzz-call/respond",
    "agent/human_contacts/fuzz-contact/respond",
    "agent/function_calls/fuzz-call/escalate_email",
    "agent/human_contacts/fuzz-contact/escalate_email",
    "webhooks",
]
ID_PATHS = [
    "function_calls/{id}",
    "contact_requests/{id}",
    "function_calls/{id}/events",
    "contact_requests/{id}/events",
    "agent/function_calls/{id}/respond",
    "agent/human_contacts/{id}/escalate_email",
]

CONTENT_TYPES = st.sampled_from(
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/json",
        "text/html",
        "application/xml",
    ]
)
# Escapes as sent on the wire: NUL, dot-dot, an encoded slash, a UTF-16 surrogate, a stray byte.
RAW_IDS = st.sampled_from(["%00", "..", "%2e%2e", "a%2Fb", "%ED%A0%80", "%FF", "x" * 5000])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def valid_function_call(call_id: str = "fuzz-call") -> dict:
    return {
        "run_id": "fuzz",
        "call_id": call_id,
        "spec": {
            "fn": "wire_money",
            "kwargs": {"amount": 1},
            "channel": {"email": {"address": "fuzz@example.com"}},
        },
    }


def paths_in(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a JSON document, so a strategy can replace any one of them."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths_in(child, (*prefix, key)))
    return found


def replaced(document: dict, path: tuple, value: object) -> object:
    if not path:
        return value
    copy = dict(document)
    copy[path[0]] = replaced(copy[path[0]], path[1:], value)
    return copy


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """Bodies as bytes, including what no JSON encoder would produce."""
    kind = draw(
        st.sampled_from(
            ["nested", "huge", "surrogate", "nonfinite", "duplicate", "not-utf8", "nul", "bigint"]
        )
    )
    fields = json.dumps(valid_function_call())[1:-1]
    if kind == "nested":
        depth = draw(st.integers(min_value=1, max_value=60_000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return f'{{"run_id": "fuzz", "call_id": "deep", "spec": {opener * depth}1{closer * depth}}}'.encode()
    if kind == "huge":
        size = draw(st.sampled_from([10_000, 300_000, 900_000, 1_100_000, 3_000_000]))
        field = draw(st.sampled_from(["run_id", "call_id", "fn"]))
        return json.dumps(
            replaced(valid_function_call(), ("spec", "fn") if field == "fn" else (field,), "x" * size)
        ).encode()
    if kind == "surrogate":
        escape = draw(st.sampled_from(["\\ud800", "\\udfff", "\\ud83d", "\\udc00\\ud800"]))
        where = draw(st.sampled_from(["call_id", "fn", "kwarg"]))
        body = valid_function_call()
        body["spec"]["kwargs"] = {"note": "SURROGATE"}
        target = {"call_id": ("call_id",), "fn": ("spec", "fn"), "kwarg": ("spec", "kwargs", "note")}[where]
        return json.dumps(replaced(body, target, "SURROGATE")).replace("SURROGATE", escape).encode()
    if kind == "nonfinite":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]))
        nonfinite = '{"run_id": "fuzz", "call_id": "nan", "spec": {"fn": "f", "kwargs": {"x": TOKEN}, '
        nonfinite += '"timeout_seconds": TOKEN, "channel": {"email": {"address": "fuzz@example.com"}}}}'
        return nonfinite.replace("TOKEN", token).encode()
    if kind == "duplicate":
        return ('{"call_id": "dup-a", "call_id": "dup-b", ' + fields + "}").encode()
    if kind == "not-utf8":
        junk = draw(st.binary(min_size=1, max_size=8).filter(lambda b: not _is_utf8(b)))
        return b'{"run_id": "' + junk + b'", "call_id": "bytes", "spec": {}}'
    if kind == "nul":
        return json.dumps(replaced(valid_function_call(), ("call_id",), "nul\u0000id")).encode()
    digits = draw(st.integers(min_value=20, max_value=6000))
    big = '{"run_id": "fuzz", "call_id": "big", "spec": {"fn": "f", "kwargs": {"n": BIG}, "quorum": BIG}}'
    return big.replace("BIG", "9" * digits).encode()


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@st.composite
def wrong_shapes(draw: st.DrawFn) -> dict:
    """A valid body with one field replaced by any JSON value, or with unknown fields added."""
    body = valid_function_call(draw(st.text(min_size=1, max_size=20)))
    if draw(st.booleans()):
        extra = draw(st.dictionaries(st.text(min_size=1, max_size=10), json_values, min_size=1, max_size=3))
        return {**body, **extra, "spec": {**body["spec"], **extra}}
    path = draw(st.sampled_from(paths_in(body)[1:]))
    return replaced(body, path, draw(json_values))


def assert_clear_answer(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    content_type = response.headers.get("Content-Type", "")
    assert content_type.startswith("application/json"), (
        response.status_code,
        content_type,
        response.text[:200],
    )
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, dict) and set(body) == {"error", "detail"}, body
        assert isinstance(body["error"], str) and body["error"]
        assert isinstance(body["detail"], str) and body["detail"]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def send(
    service: RunningService, key: str, path: str, data: bytes, content_type: str | None
) -> requests.Response:
    headers = bearer(key) | ({"Content-Type": content_type} if content_type else {})
    return requests.post(f"{service.api_url}/{path}", data=data, headers=headers, timeout=30)


@pytest.fixture
def fuzz_key(service: RunningService, project_key: str) -> str:
    # Something to escalate and answer, so those routes get past their 404.
    for path, body in (
        ("function_calls", valid_function_call()),
        (
            "contact_requests",
            {
                **valid_function_call("fuzz-contact"),
                "spec": {"msg": "?", "channel": valid_function_call()["spec"]["channel"]},
            },
        ),
    ):
        response = requests.post(
            f"{service.api_url}/{path}", json=body, headers=bearer(project_key), timeout=10
        )
        assert response.status_code == 201, response.text
    return project_key


def fuzz(
    what: str,
    requests_: st.SearchStrategy,
    answer: Callable[[Any], requests.Response],
    report_cases: Callable[[str], None],
) -> None:
    """Send what `requests_` draws through `answer`; every answer must be clear. Prints the count."""
    ran = 0

    @FUZZ_SETTINGS
    @given(requests_)
    def case(drawn: Any) -> None:
        nonlocal ran
        ran += 1
        assert_clear_answer(answer(drawn))

    case()
    report_cases(f"{what}: {ran} cases")


def test_hostile_bytes_get_a_clear_answer(
    service: RunningService, fuzz_key: str, report_cases: Callable[[str], None]
) -> None:
    fuzz(
        "hostile bytes",
        st.tuples(st.sampled_from(BODY_PATHS), raw_bodies()),
        lambda drawn: send(service, fuzz_key, *drawn, "application/json"),
        report_cases,
    )


def test_wrong_types_and_unknown_fields_get_a_clear_answer(
    service: RunningService, fuzz_key: str, report_cases: Callable[[str], None]
) -> None:
    fuzz(
        "wrong types and unknown fields",
        st.tuples(st.sampled_from(BODY_PATHS), wrong_shapes().map(lambda body: json.dumps(body).encode())),
        lambda drawn: send(service, fuzz_key, *drawn, "application/json"),
        report_cases,
    )


def test_any_text_and_any_content_type_get_a_clear_answer(
    service: RunningService, fuzz_key: str, report_cases: Callable[[str], None]
) -> None:
    texts = st.text(max_size=200) | json_values.map(json.dumps)
    fuzz(
        "any text, any content type",
        st.tuples(st.sampled_from(BODY_PATHS), texts.map(lambda text: text.encode()), CONTENT_TYPES),
        lambda drawn: send(service, fuzz_key, *drawn),
        report_cases,
    )


@st.composite
def odd_id_requests(draw: st.DrawFn) -> tuple[str, str]:
    """A method and a path whose id is anything: any text, escapes, huge or negative numbers."""
    template = draw(st.sampled_from([*ID_PATHS, "webhooks/{id}", "webhooks/{id}/deliveries"]))
    if template.startswith("webhooks"):
        path_id = str(draw(st.integers(min_value=-(10**30), max_value=10**30)))
    else:
        path_id = draw(st.text(min_size=1, max_size=300).map(lambda text: quote(text, safe="")) | RAW_IDS)
    method = "POST" if template.startswith("agent") else ("DELETE" if template == "webhooks/{id}" else "GET")
    return method, template.format(id=path_id)


def test_path_ids_of_any_characters_get_a_clear_answer(
    service: RunningService, fuzz_key: str, report_cases: Callable[[str], None]
) -> None:
    fuzz(
        "odd path ids",
        odd_id_requests(),
        lambda drawn: requests.request(
            drawn[0], f"{service.api_url}/{drawn[1]}", json={}, headers=bearer(fuzz_key), timeout=30
        ),
        report_cases,
    )
