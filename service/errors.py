"""Failures a client or a person can cause, each with its status and a stable name.

The API renders them as JSON `{"error": name, "detail": text}`; the pages as a readable
page. Where a failure happens decides the format, not the failure.
"""

from __future__ import annotations


class SignoffHTTPError(Exception):
    status = 400
    error = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def headers(self) -> dict[str, str]:
        """Headers the response carries beside the body, whatever its format."""
        return {}


class InvalidJSON(SignoffHTTPError):
    status = 400
    error = "invalid_json"


class Unauthorized(SignoffHTTPError):
    status = 401
    error = "unauthorized"


class Forbidden(SignoffHTTPError):
    status = 403
    error = "forbidden"


class NotFound(SignoffHTTPError):
    status = 404
    error = "not_found"


class AlreadyResponded(SignoffHTTPError):
    status = 409
    error = "already_responded"


class InvalidRequest(SignoffHTTPError):
    status = 422
    error = "invalid_request"


class PayloadTooLarge(SignoffHTTPError):
    status = 413
    error = "payload_too_large"


class RateLimited(SignoffHTTPError):
    """Too many requests; `retry_after` (seconds) goes out as the Retry-After header."""

    status = 429
    error = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
