"""Request bodies: strict JSON, then the size of what the request asks people to read.

Python's `json` accepts more than JSON (NaN, Infinity, numbers that overflow to infinity,
lone UTF-16 surrogates) and fails with a RecursionError on deep nesting; none of that can be
stored or sent back as JSON, so it is refused here, before a model or the store sees it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request

from ..context import runtime
from ..errors import InvalidJSON, InvalidRequest, PayloadTooLarge

# Deeper than any request people read; far below where the parser or the store would fail.
MAX_DEPTH = 64


def read_json_object() -> dict[str, Any]:
    """The body as a JSON object, or an InvalidJSON/InvalidRequest naming what is wrong."""
    if not request.is_json:
        raise InvalidJSON("the body must be a JSON object (Content-Type: application/json)")
    try:
        body = json.loads(request.get_data(cache=True), parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError as exc:
        raise InvalidJSON(f"the body is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:
        raise InvalidJSON(f"the body must be a JSON object; this is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidJSON("the body must be a JSON object (Content-Type: application/json)")
    _check_values(body)
    return body


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a number")
    return number


def _check_values(body: dict[str, Any]) -> None:
    """Walk the document without recursion: its depth, and strings the store cannot keep."""
    pending: list[tuple[Any, str, int]] = [(body, "body", 1)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidJSON(f"the body is nested deeper than {MAX_DEPTH} levels (at {where})")
        if isinstance(value, dict):
            for key, child in value.items():
                _check_text(key, f"{where} key")
                pending.append((child, f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            pending.extend((child, f"{where}.{index}", depth + 1) for index, child in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, where)


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJSON(f"{where}: a lone UTF-16 surrogate is not valid Unicode") from exc
    if "\x00" in text:
        raise InvalidRequest(f"{where}: text may not contain NUL (\\u0000) characters")


def check_content_size(content: Any, what: str) -> None:
    """Refuse a request whose content (arguments, message, options...) is over max_argument_bytes."""
    limit = runtime().settings.max_argument_bytes
    size = len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > limit:
        raise PayloadTooLarge(
            f"{what} is {size} bytes of JSON, over the limit of {limit} (max_argument_bytes)"
        )
