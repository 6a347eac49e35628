"""The HTTP client for signoff's HumanLayer-compatible REST API."""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter

from .exceptions import SignoffConnectionError, SignoffError, SignoffHTTPError, SignoffTimeoutError
from .models import Escalation, FunctionCall, FunctionCallStatus, HumanContact, HumanContactStatus

logger = logging.getLogger(__name__)

API_PREFIX = "/humanlayer/v1"
DEFAULT_API_BASE = f"http://127.0.0.1:8080{API_PREFIX}"
DEFAULT_HTTP_TIMEOUT_SECONDS = 30.0
DEFAULT_POLL_SECONDS = 30.0
MAX_POLL_SECONDS = 60.0

# Extra read time on top of a long-poll's `wait`, for the server to write its answer.
LONG_POLL_GRACE_SECONDS = 10.0
# Each poll takes at least this long, so a server that ignores `wait` is not hammered.
MIN_POLL_INTERVAL_SECONDS = 3.0
FIRST_RETRY_DELAY_SECONDS = 0.5
MAX_RETRY_DELAY_SECONDS = 10.0
CREATE_ATTEMPTS = 4
POOL_SIZE = 32

# What a proxy answers while the service behind it restarts, plus "slow down".
TRANSIENT_STATUS_CODES = frozenset({429, 502, 503, 504})

# Failures that say nothing about the request itself, only about the road to the server.
TRANSIENT_REQUEST_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")


def resolve_api_key(api_key: str | None = None) -> str | None:
    """The explicit key, else SIGNOFF_API_KEY, else HUMANLAYER_API_KEY."""
    return api_key or os.getenv("SIGNOFF_API_KEY") or os.getenv("HUMANLAYER_API_KEY") or None


def resolve_api_base(api_base_url: str | None = None) -> str:
    """The explicit base URL, else SIGNOFF_API_BASE, else HUMANLAYER_API_BASE, else localhost."""
    return (
        api_base_url or os.getenv("SIGNOFF_API_BASE") or os.getenv("HUMANLAYER_API_BASE") or DEFAULT_API_BASE
    )


def normalize_base_url(url: str) -> str:
    """Accept the API base (`.../humanlayer/v1`) or the bare server root."""
    url = url.strip().rstrip("/")
    if not url.endswith(API_PREFIX):
        url += API_PREFIX
    return url


def _user_agent() -> str:
    try:
        version = metadata.version("signoff")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"signoff-python/{version}"


class _Backoff:
    """Exponential delays with jitter, so restarted servers are not met by a thundering herd."""

    def __init__(self) -> None:
        self._ceiling = FIRST_RETRY_DELAY_SECONDS

    def next_delay(self) -> float:
        ceiling = self._ceiling
        self._ceiling = min(MAX_RETRY_DELAY_SECONDS, ceiling * 2)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - retry jitter, not a secret


def _is_transient(error: SignoffError) -> bool:
    if isinstance(error, SignoffConnectionError):
        return True
    return isinstance(error, SignoffHTTPError) and error.status_code in TRANSIENT_STATUS_CODES


def _describe_network_error(error: requests.RequestException) -> str:
    # requests nests the useful part ("[Errno 111] Connection refused") deep in a long message.
    match = re.search(r"\[Errno -?\d+\] [^'\")]+", str(error))
    return match.group(0) if match else type(error).__name__


def _format_seconds(seconds: float) -> str:
    return f"{round(seconds, 3):g}"


class SignoffClient:
    """Talks to one signoff service over one HTTP session.

    >>> client = SignoffClient("http://127.0.0.1:8080", api_key="...")
    >>> call = client.create_function_call(FunctionCall(...))
    >>> decided = client.wait_for_function_call(call.call_id)
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        http_timeout_seconds: float = DEFAULT_HTTP_TIMEOUT_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        if not 0 < poll_seconds <= MAX_POLL_SECONDS:
            raise ValueError(f"poll_seconds must be more than 0 and at most {MAX_POLL_SECONDS:g}")
        if http_timeout_seconds <= 0:
            raise ValueError("http_timeout_seconds must be positive")
        self.base_url = normalize_base_url(resolve_api_base(base_url))
        self.http_timeout_seconds = http_timeout_seconds
        self.poll_seconds = poll_seconds
        self._sleep = sleep
        self.session = requests.Session()
        # Each waiting tool call holds a connection for its whole long-poll; agents that
        # run tools in parallel would otherwise overflow requests' default pool of 10.
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(pool_maxsize=POOL_SIZE))
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = _user_agent()
        api_key = resolve_api_key(api_key)
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return f"SignoffClient({self.base_url!r})"

    def __enter__(self) -> SignoffClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the pooled connections."""
        self.session.close()

    # Function calls

    def create_function_call(self, call: FunctionCall) -> FunctionCall:
        """Ask for approval. Posting a call_id the server already has returns that call."""
        return self._create("/function_calls", call, FunctionCall)

    def get_function_call(self, call_id: str, wait: float | None = None) -> FunctionCall:
        """The call as it stands; with `wait`, hold on up to that many seconds for a decision."""
        return self._get(f"/function_calls/{quote(call_id, safe='')}", wait, FunctionCall)

    def respond_to_function_call(self, call_id: str, status: FunctionCallStatus) -> FunctionCall:
        """Decide a call on a person's behalf."""
        path = f"/agent/function_calls/{quote(call_id, safe='')}/respond"
        return self._post(path, status, FunctionCall)

    def escalate_email_function_call(self, call_id: str, escalation: Escalation) -> FunctionCall:
        """Email more people about a call that is still waiting."""
        path = f"/agent/function_calls/{quote(call_id, safe='')}/escalate_email"
        return self._post(path, escalation, FunctionCall)

    def wait_for_function_call(self, call_id: str, timeout: float | None = None) -> FunctionCall:
        """Block until someone approves or rejects the call; never returns it undecided."""
        return self._wait_until_decided(
            lambda wait: self.get_function_call(call_id, wait=wait),
            lambda call: call.status is not None and call.status.approved is not None,
            f"function call {call_id}",
            timeout,
        )

    # Human contacts

    def create_human_contact(self, contact: HumanContact) -> HumanContact:
        """Ask a person a question. Posting a call_id the server already has returns that one."""
        return self._create("/contact_requests", contact, HumanContact)

    def get_human_contact(self, call_id: str, wait: float | None = None) -> HumanContact:
        """The question as it stands; with `wait`, hold on up to that many seconds for an answer."""
        return self._get(f"/contact_requests/{quote(call_id, safe='')}", wait, HumanContact)

    def respond_to_human_contact(self, call_id: str, status: HumanContactStatus) -> HumanContact:
        """Answer a question on a person's behalf."""
        path = f"/agent/human_contacts/{quote(call_id, safe='')}/respond"
        return self._post(path, status, HumanContact)

    def escalate_email_human_contact(self, call_id: str, escalation: Escalation) -> HumanContact:
        """Email more people about a question that is still unanswered."""
        path = f"/agent/human_contacts/{quote(call_id, safe='')}/escalate_email"
        return self._post(path, escalation, HumanContact)

    def wait_for_human_contact(self, call_id: str, timeout: float | None = None) -> HumanContact:
        """Block until someone answers the question; never returns it unanswered."""
        return self._wait_until_decided(
            lambda wait: self.get_human_contact(call_id, wait=wait),
            lambda contact: contact.status is not None and contact.status.response is not None,
            f"human contact {call_id}",
            timeout,
        )

    # Plumbing

    def _create(self, path: str, item: FunctionCall | HumanContact, model: type[Model]) -> Model:
        # Safe to repeat: the server keys creation on call_id, so a retry after a lost
        # response finds the first attempt instead of making a second request.
        return self._retrying(
            lambda: self._post(path, item, model),
            f"creating {item.call_id}",
            max_attempts=CREATE_ATTEMPTS,
        )

    def _post(self, path: str, body: BaseModel, model: type[Model]) -> Model:
        data = self._request("POST", path, json=body.model_dump(mode="json"))
        return self._parse(model, data)

    def _get(self, path: str, wait: float | None, model: type[Model]) -> Model:
        if wait is None:
            return self._parse(model, self._request("GET", path))
        if not 0 <= wait <= MAX_POLL_SECONDS:
            raise ValueError(f"wait must be between 0 and {MAX_POLL_SECONDS:g} seconds")
        data = self._request(
            "GET",
            path,
            params={"wait": _format_seconds(wait)},
            read_timeout=wait + LONG_POLL_GRACE_SECONDS,
        )
        return self._parse(model, data)

    def _request(self, method: str, path: str, *, read_timeout: float | None = None, **kwargs: Any) -> Any:
        url = self.base_url + path
        timeout = (self.http_timeout_seconds, read_timeout or self.http_timeout_seconds)
        try:
            response = self.session.request(method, url, timeout=timeout, **kwargs)
        except TRANSIENT_REQUEST_ERRORS as exc:
            reason = _describe_network_error(exc)
            raise SignoffConnectionError(f"could not reach signoff at {self.base_url}: {reason}") from exc
        except requests.RequestException as exc:
            raise SignoffError(f"{method} {url} failed: {exc}") from exc
        logger.debug("%s %s -> %d", method, url, response.status_code)
        return self._json_or_raise(response)

    @staticmethod
    def _json_or_raise(response: requests.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise SignoffHTTPError.from_body(response.status_code, body, response.text)
        if body is None:
            raise SignoffError(f"{response.url} answered {response.status_code} without a JSON body")
        return body

    @staticmethod
    def _parse(model: type[Model], data: Any) -> Model:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise SignoffError(f"the server sent a {model.__name__} this SDK cannot read: {exc}") from exc

    def _retrying(
        self,
        attempt: Callable[[], Result],
        what: str,
        *,
        max_attempts: int | None = None,
        deadline: float | None = None,
    ) -> Result:
        """Run `attempt`, retrying transient failures with backoff."""
        backoff = _Backoff()
        failures = 0
        while True:
            try:
                result = attempt()
            except SignoffError as exc:
                if not _is_transient(exc):
                    raise
                failures += 1
                if max_attempts is not None and failures >= max_attempts:
                    raise
                delay = backoff.next_delay()
                if deadline is not None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise SignoffTimeoutError(f"gave up {what}: {exc}") from exc
                    delay = min(delay, remaining)
                logger.warning("%s failed (%s); retrying in %.1f s", what, exc, delay)
                self._sleep(delay)
                continue
            if failures:
                logger.info("%s succeeded after %d failed attempts", what, failures)
            return result

    def _wait_until_decided(
        self,
        fetch: Callable[[float], Model],
        decided: Callable[[Model], bool],
        what: str,
        timeout: float | None,
    ) -> Model:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self.poll_seconds
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SignoffTimeoutError(f"{what} was not decided within {timeout:g} s")
                wait = min(wait, remaining)
            started = time.monotonic()
            item = self._retrying(lambda wait=wait: fetch(wait), f"waiting for {what}", deadline=deadline)
            if decided(item):
                return item
            self._pause_before_next_poll(min(wait, MIN_POLL_INTERVAL_SECONDS), started, deadline)

    def _pause_before_next_poll(self, interval: float, started: float, deadline: float | None) -> None:
        now = time.monotonic()
        pause = interval - (now - started)
        if deadline is not None:
            pause = min(pause, deadline - now)
        if pause > 0:
            self._sleep(pause)


__all__ = ["DEFAULT_API_BASE", "SignoffClient", "normalize_base_url"]
