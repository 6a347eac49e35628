"""Errors the SDK raises. Catch `SignoffError` to catch them all."""

from __future__ import annotations

from typing import Any


class SignoffError(Exception):
    """Something went wrong talking to signoff or waiting for a person."""


# The names HumanLayer's SDK uses, so code written against it keeps catching our errors.
HumanLayerException = SignoffError
HumanLayerError = SignoffError


class SignoffHTTPError(SignoffError):
    """The service answered with an error status.

    `error` and `detail` are the two fields of the service's JSON error body; when the
    body is not JSON (a proxy's error page, say) `detail` holds the start of its text.
    """

    def __init__(self, status_code: int, error: str, detail: str | None = None) -> None:
        self.status_code = status_code
        self.error = error
        self.detail = detail
        message = f"{status_code} {error}"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)

    @classmethod
    def from_body(cls, status_code: int, body: Any, text: str) -> SignoffHTTPError:
        """Build the error from a parsed JSON body, or from raw text when there is none."""
        if isinstance(body, dict) and "error" in body:
            detail = body.get("detail")
            return cls(status_code, str(body["error"]), None if detail is None else str(detail))
        return cls(status_code, "unexpected response", text[:500] or None)


class UserDeniedError(SignoffError):
    """A person said no, or nobody was there to say yes."""


class ApprovalTimedOutError(UserDeniedError):
    """No one decided before the request's own timeout, and the server rejected it."""


class SignoffConnectionError(SignoffError, ConnectionError):
    """The service could not be reached, or stopped answering mid-request."""


class SignoffTimeoutError(SignoffError, TimeoutError):
    """Nobody decided within the time the caller was willing to wait."""


__all__ = [
    "ApprovalTimedOutError",
    "HumanLayerError",
    "HumanLayerException",
    "SignoffConnectionError",
    "SignoffError",
    "SignoffHTTPError",
    "SignoffTimeoutError",
    "UserDeniedError",
]
