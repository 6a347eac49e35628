"""Posting and editing request messages through Discord's REST API, as the bot.

A DiscordContactChannel names a channel or a user. Discord's ids do not say which, so the
message goes to the channel first; when Discord knows no such channel (404, code 10003),
the id is taken as a user's and the message goes to the DM channel opened with them.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import requests

from ...config import Settings
from ...mail_out.senders import SendError
from ...store.chat import DISCORD
from ...store.models import ChatPost, HumanRequest
from .. import PostedMessage, seconds_asked
from .components import outcome_message, request_message

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL = 10003


def _user_agent(service_url: str) -> str:
    # Discord asks every bot to say who it is, as "DiscordBot (<url>, <version>)": the URL
    # is this service's own, where its operator can be found.
    try:
        release = version("signoff")
    except PackageNotFoundError:
        release = "dev"
    return f"DiscordBot ({service_url}, {release})"


class DiscordRefused(SendError):
    """Discord answered with an error: its HTTP status and Discord's own error code."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None,
        permanent: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, permanent=permanent, retry_after=retry_after)
        self.status = status
        self.code = code


class DiscordSender:
    kind = DISCORD

    def __init__(self, settings: Settings) -> None:
        self._api_url = settings.discord_api_url.rstrip("/")
        self._timeout = settings.outbound_timeout_seconds
        self._user_agent = _user_agent(settings.public_base_url)

    def post(self, request: HumanRequest, destination: str, token: str) -> PostedMessage:
        _check_id(destination)
        message = request_message(request)
        try:
            sent = self._call("POST", f"/channels/{destination}/messages", token, message)
        except DiscordRefused as exc:
            if exc.code != UNKNOWN_CHANNEL:
                raise
            dm_channel = self._open_dm(destination, token, exc)
            sent = self._call("POST", f"/channels/{dm_channel}/messages", token, message)
        return PostedMessage(str(sent["channel_id"]), str(sent["id"]))

    def update(self, request: HumanRequest, post: ChatPost, token: str) -> None:
        path = f"/channels/{post.channel_id}/messages/{post.message_ref}"
        self._call("PATCH", path, token, outcome_message(request))

    def _open_dm(self, user_id: str, token: str, no_channel: DiscordRefused) -> str:
        try:
            channel = self._call("POST", "/users/@me/channels", token, {"recipient_id": user_id})
        except DiscordRefused as exc:
            if exc.permanent and exc.status in (400, 404):
                raise SendError(
                    f"{no_channel} and no user with id {user_id} to message ({exc})", permanent=True
                ) from exc
            raise
        return str(channel["id"])

    def _call(self, method: str, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bot {token}", "User-Agent": self._user_agent}
        try:
            answer = requests.request(
                method, self._api_url + path, json=body, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise SendError(
                f"Discord could not be reached ({type(exc).__name__}) for {method} {path}", permanent=False
            ) from exc
        if answer.ok:
            return _json_object(answer, method, path)
        raise _refusal(answer, method, path)


def _check_id(destination: str) -> None:
    # Ids go into the URL's path: a snowflake is all digits, and nothing else may get there.
    if not destination.isdigit() or not destination.isascii():
        raise SendError(
            f"{destination!r} is not a Discord channel or user id (a number: right-click, Copy ID)",
            permanent=True,
        )


def _json_object(answer: requests.Response, method: str, path: str) -> dict[str, Any]:
    try:
        found = answer.json()
    except ValueError:
        found = None
    if not isinstance(found, dict) or "id" not in found:
        raise SendError(
            f"Discord's answer to {method} {path} is not the object it documents", permanent=False
        )
    return found


def _refusal(answer: requests.Response, method: str, path: str) -> DiscordRefused:
    try:
        error = answer.json()
    except ValueError:
        error = {}
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    said = str(error.get("message") or answer.reason or "")[:200]
    status = answer.status_code
    if status == 429:
        retry_after = seconds_asked(error.get("retry_after") or answer.headers.get("Retry-After"))
        asked = "?" if retry_after is None else f"{retry_after:g}"
        message = f"Discord rate-limited {method} {path} (429 {said}); it asks to retry after {asked} s"
        return DiscordRefused(message, status=status, code=code, permanent=False, retry_after=retry_after)
    described = f"Discord answered {status} {said}" + (f" (code {code})" if code is not None else "")
    return DiscordRefused(f"{described} to {method} {path}", status=status, code=code, permanent=status < 500)
