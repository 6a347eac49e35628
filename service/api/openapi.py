"""The API's contract: an OpenAPI 3.1 document, served without a key at `GET /openapi.json`.

Every schema in it is pydantic's JSON Schema of the models the views validate with and answer
with (the SDK's wire models and `wire.py`), so the document cannot describe other bodies than
the service sends. `OPERATIONS` is the one table of what the API does; a test holds it to the
routes Flask knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, get_args, get_origin

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from signoff.models import (
    MAX_ID_LENGTH,
    ContactChannel,
    Escalation,
    FunctionCall,
    FunctionCallStatus,
    HumanContact,
    HumanContactStatus,
    WebhookSpec,
)

from .blueprint import API_PREFIX
from .human_requests import MAX_WAIT_SECONDS
from .webhooks import MAX_WEBHOOK_ID
from .wire import AuditEvent, ErrorBody, NewWebhook, WebhookDelivery, WebhookInfo

bp = Blueprint("openapi", __name__)

REF_TEMPLATE = "#/components/schemas/{model}"
ERRORS = {
    400: "invalid_json: the body is not a JSON object (or not JSON at all)",
    401: "unauthorized: no API key, or one that is not valid, was revoked or expired",
    403: "forbidden: an ask-only key cannot decide requests or change the project's default channel",
    404: "not_found: nothing with that id in this key's project",
    409: "already_responded: the request was decided already; the first answer stands",
    413: "payload_too_large: the body is over max_request_bytes, or its content over max_argument_bytes",
    422: "invalid_request: the body (or a query parameter) breaks a rule; detail names the field",
    429: "rate_limited: over api_requests_per_minute for this key; retry after Retry-After seconds",
}
CALL_ID = {
    "name": "call_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH},
}
WEBHOOK_ID = {
    "name": "webhook_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_WEBHOOK_ID},
}
WAIT = {
    "name": "wait",
    "in": "query",
    "required": False,
    "description": "Long-poll: answer once the request is decided, or after this many seconds.",
    "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS},
}


@dataclass(frozen=True)
class Operation:
    """One route: what it takes, what it answers on success, which errors it can give."""

    method: str
    path: str
    operation_id: str
    summary: str
    ok: dict[int, tuple[str, Any]]
    body: type[BaseModel] | None = None
    parameters: tuple[dict[str, Any], ...] = ()
    conflicts: bool = False
    decides: bool = False
    # Answers 404 when the thing it reads is not set (the project's default channel).
    may_be_unset: bool = False


def _request_operations(
    noun: str, kind: str, model: type[BaseModel], status: type[BaseModel]
) -> list[Operation]:
    """The same five operations exist for function calls and for contact requests."""
    agent = "function_calls" if kind == "function_calls" else "human_contacts"
    name = "FunctionCall" if kind == "function_calls" else "HumanContact"
    return [
        Operation(
            "post",
            f"/{kind}",
            f"create{name}",
            f"Send a {noun} to the people its channel names (idempotent per call_id)",
            ok={
                201: ("Created and emailed", model),
                200: (f"A {noun} with this call_id already exists", model),
            },
            body=model,
        ),
        Operation(
            "get",
            f"/{kind}/{{call_id}}",
            f"get{name}",
            f"Read a {noun}, optionally waiting for its decision",
            ok={200: (f"The {noun}", model)},
            parameters=(CALL_ID, WAIT),
        ),
        Operation(
            "get",
            f"/{kind}/{{call_id}}/events",
            f"list{name}Events",
            f"The audit trail of a {noun}, oldest first",
            ok={200: ("Every event", list[AuditEvent])},
            parameters=(CALL_ID,),
        ),
        Operation(
            "post",
            f"/agent/{agent}/{{call_id}}/respond",
            f"respondTo{name}",
            f"Decide a {noun} through the API instead of by email",
            ok={200: (f"The decided {noun}", model)},
            body=status,
            parameters=(CALL_ID,),
            conflicts=True,
            decides=True,
        ),
        Operation(
            "post",
            f"/agent/{agent}/{{call_id}}/escalate_email",
            f"escalate{name}",
            f"Bring more people into a waiting {noun}, in the same email thread",
            ok={200: (f"The {noun}, with its new recipients", model)},
            body=Escalation,
            parameters=(CALL_ID,),
            conflicts=True,
        ),
    ]


OPERATIONS: tuple[Operation, ...] = (
    *_request_operations("function call", "function_calls", FunctionCall, FunctionCallStatus),
    *_request_operations("contact request", "contact_requests", HumanContact, HumanContactStatus),
    Operation(
        "post",
        "/webhooks",
        "createWebhook",
        "Register a URL that is told of every decision, timeout and escalation",
        ok={201: ("Registered; the secret is shown only here", NewWebhook)},
        body=WebhookSpec,
    ),
    Operation(
        "get", "/webhooks", "listWebhooks", "The project's webhooks", ok={200: ("", list[WebhookInfo])}
    ),
    Operation(
        "delete",
        "/webhooks/{webhook_id}",
        "deleteWebhook",
        "Remove a webhook; it gets nothing more",
        ok={200: ("The removed webhook", WebhookInfo)},
        parameters=(WEBHOOK_ID,),
    ),
    Operation(
        "get",
        "/webhooks/{webhook_id}/deliveries",
        "listWebhookDeliveries",
        "Every delivery to a webhook and how it went",
        ok={200: ("", list[WebhookDelivery])},
        parameters=(WEBHOOK_ID,),
    ),
    Operation(
        "get",
        "/project/default_channel",
        "getDefaultChannel",
        "Where the project's requests that name no channel go",
        ok={200: ("The project's default channel", ContactChannel)},
        may_be_unset=True,
    ),
    Operation(
        "put",
        "/project/default_channel",
        "setDefaultChannel",
        "Set where the project's requests that name no channel go (email, Slack or Discord)",
        ok={200: ("The stored default channel", ContactChannel)},
        body=ContactChannel,
        decides=True,
    ),
    Operation(
        "delete",
        "/project/default_channel",
        "deleteDefaultChannel",
        "Remove the default: requests must then name their channel",
        ok={200: ("The removed default channel", ContactChannel)},
        may_be_unset=True,
        decides=True,
    ),
)


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(openapi_document())


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document; built once, it depends on nothing but the code."""
    refs, schemas = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(API_PREFIX + operation.path, {})[operation.method] = _describe(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "signoff",
            "version": "1",
            "description": "Approvals and answers from people, by email, in HumanLayer's v1 wire format. "
            'Every error is a JSON body {"error": <stable name>, "detail": <what to change>}.',
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _models() -> list[tuple[type[BaseModel], str]]:
    """Each model with its JSON Schema mode: bodies as validated, answers as serialized."""
    models = {(ErrorBody, "serialization")}
    for operation in OPERATIONS:
        if operation.body is not None:
            models.add((operation.body, "validation"))
        for _, answer in operation.ok.values():
            models.add((_item_model(answer), "serialization"))
    return sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))


def _schemas() -> tuple[dict[tuple[type[BaseModel], str], dict[str, str]], dict[str, Any]]:
    refs, top = models_json_schema(_models(), ref_template=REF_TEMPLATE)
    return refs, top.get("$defs", {})


def _item_model(answer: Any) -> type[BaseModel]:
    return get_args(answer)[0] if get_origin(answer) is list else answer


def _answer_schema(answer: Any, refs: dict[tuple[type[BaseModel], str], dict[str, str]]) -> dict[str, Any]:
    ref = refs[(_item_model(answer), "serialization")]
    return {"type": "array", "items": ref} if get_origin(answer) is list else ref


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _describe(
    operation: Operation, refs: dict[tuple[type[BaseModel], str], dict[str, str]]
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(status): {"description": description or "OK", "content": _json(_answer_schema(answer, refs))}
        for status, (description, answer) in operation.ok.items()
    }
    error = refs[(ErrorBody, "serialization")]
    for status in _errors_of(operation):
        responses[str(status)] = {"description": ERRORS[status], "content": _json(error)}
    responses["429"]["headers"] = {
        "Retry-After": {"required": True, "description": "Seconds to wait", "schema": {"type": "integer"}}
    }
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "parameters": list(operation.parameters),
        "responses": dict(sorted(responses.items())),
    }
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": _json(refs[(operation.body, "validation")]),
        }
    return described


def _errors_of(operation: Operation) -> list[int]:
    statuses = {401, 429}
    if operation.body is not None:
        statuses |= {400, 413, 422}
    if operation.parameters or operation.may_be_unset:
        statuses.add(404)
    if WAIT in operation.parameters:
        statuses.add(422)
    if operation.conflicts:
        statuses.add(409)
    if operation.decides:
        statuses.add(403)
    return sorted(statuses)
