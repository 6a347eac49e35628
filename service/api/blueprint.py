"""The API blueprint and what every API view shares: authentication, bodies, lookups."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import Row

from signoff.models import MAX_ID_LENGTH

from ..context import db, runtime
from ..errors import Forbidden, InvalidRequest, NotFound, RateLimited, Unauthorized
from ..store.keys import KeyRefused, check_api_key_hash, hash_key
from ..store.models import FUNCTION_CALL, HumanRequest
from ..store.requests import find_request, find_status
from ..verified_keys import VerifiedKey
from .bodies import check_content_size, read_json_object

API_PREFIX = "/humanlayer/v1"

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

ModelT = TypeVar("ModelT", bound=BaseModel)


@bp.before_request
def authenticate() -> None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send your API key as 'Authorization: Bearer <key>'")
    key_hash = hash_key(key.strip())
    _count_against_rate_limit(key_hash)
    verified = _verify(key_hash)
    g.project_id = verified.project_id
    g.key_can_decide = verified.can_decide


def _verify(key_hash: str) -> VerifiedKey:
    recent = runtime().verified_keys
    verified = recent.get(key_hash)
    if verified is None:
        try:
            project, api_key = check_api_key_hash(db(), key_hash)
        except KeyRefused as exc:
            raise Unauthorized(str(exc)) from exc
        verified = VerifiedKey(project.id, api_key.can_decide, api_key.expires_at)
        recent.put(key_hash, verified)
    return verified


def require_deciding_key() -> None:
    if not g.key_can_decide:
        raise Forbidden(
            "this is an ask-only API key: it can create and read requests but not decide them; "
            "a person decides by the emailed link or reply"
        )


def _count_against_rate_limit(key_hash: str) -> None:
    limiter = runtime().rate_limits.api
    # Buckets are named by the key's hash, so the key itself is never kept in memory.
    retry_after = limiter.hit(f"api-key:{key_hash}")
    if retry_after is not None:
        raise RateLimited(
            f"more than {limiter.limit} requests a minute with this API key (api_requests_per_minute); "
            f"retry in {retry_after} s",
            retry_after,
        )


def parse_body(model: type[ModelT], content: str | None = None) -> ModelT:
    """The body as `model`; its `content` field (or all of it) must fit max_argument_bytes."""
    body = read_json_object()
    check_content_size(body if content is None else body.get(content), content or "the body")
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
    found = find_request(db(), g.project_id, kind, call_id) if _storable(call_id) else None
    if found is None:
        raise _not_found(kind, call_id)
    return found


def status_or_404(kind: str, call_id: str) -> Row[Any]:
    """The request's status columns, for views that only show it."""
    found = find_status(db(), g.project_id, kind, call_id) if _storable(call_id) else None
    if found is None:
        raise _not_found(kind, call_id)
    return found


def _storable(call_id: str) -> bool:
    # An id no request can have is not looked up: the store would refuse NUL or oversize text.
    return len(call_id) <= MAX_ID_LENGTH and "\x00" not in call_id


def _not_found(kind: str, call_id: str) -> NotFound:
    noun = "function call" if kind == FUNCTION_CALL else "contact request"
    return NotFound(f"no {noun} with call_id {call_id!r} in this project")
