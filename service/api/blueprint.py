"""The API blueprint and what every API view shares: authentication, bodies, lookups."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, g, request
from pydantic import BaseModel, ValidationError

from ..context import db
from ..errors import Forbidden, InvalidJSON, InvalidRequest, NotFound, Unauthorized
from ..store.keys import KeyRefused, check_api_key
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.requests import find_request
from .wire import to_wire

API_PREFIX = "/humanlayer/v1"

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

ModelT = TypeVar("ModelT", bound=BaseModel)


@bp.before_request
def authenticate() -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send your API key as 'Authorization: Bearer <key>'")
    try:
        project, api_key = check_api_key(db(), key.strip())
    except KeyRefused as exc:
        raise Unauthorized(str(exc)) from exc
    g.project_id = project.id
    g.key_can_decide = api_key.can_decide


def require_deciding_key() -> None:
    if not g.key_can_decide:
        raise Forbidden(
            "this is an ask-only API key: it can create and read requests but not decide them; "
            "a person decides by the emailed link or reply"
        )


def parse_body(model: type[ModelT]) -> ModelT:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidJSON("the body must be a JSON object (Content-Type: application/json)")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise InvalidRequest(_describe_validation_error(exc)) from exc


def _describe_validation_error(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()
    ]
    return "; ".join(problems)


def find_or_404(kind: str, call_id: str) -> HumanRequest:
    found = find_request(db(), g.project_id, kind, call_id)
    if found is None:
        noun = "function call" if kind == FUNCTION_CALL else "contact request"
        raise NotFound(f"no {noun} with call_id {call_id!r} in this project")
    return found


def dump(found: HumanRequest) -> dict[str, Any]:
    return to_wire(found).model_dump(mode="json")
