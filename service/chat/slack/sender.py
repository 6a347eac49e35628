"""Slack's Web API through slack_sdk's WebClient: post the request, edit it once closed, talk to one person.

Failures become SendError: rate limits, Slack's own outages and network trouble are worth
retrying; anything else Slack refuses (a bad token, an unknown channel, a channel the app
is not in) stays refused however often it is tried.
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from ...config import Settings
from ...mail_out.senders import SendError
from ...store.chat import SLACK
from ...store.models import ChatPost, HumanRequest
from .. import PostedMessage, route_of, seconds_asked
from .blocks import Block, outcome_blocks, question_blocks

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackSender:
    """The ChatSender for Slack, and the calls an interaction answers with."""

    kind = SLACK

    def __init__(self, settings: Settings) -> None:
        self._api_url = settings.slack_api_url

    def post(self, request: HumanRequest, destination: str, token: str) -> PostedMessage:
        thread_ts = route_of(request, SLACK).get("thread_ts")
        blocks, text = question_blocks(request, in_thread=bool(thread_ts))
        options: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        client = self._client(token)
        answer = _call(
            client.chat_postMessage,
            channel=destination,
            blocks=blocks,
            text=text,
            unfurl_links=False,
            unfurl_media=False,
            **options,
        )
        # A message to a person (U...) lands in the app's DM with them, a channel of its own.
        return PostedMessage(str(answer["channel"]), str(answer["ts"]))

    def update(self, request: HumanRequest, post: ChatPost, token: str) -> None:
        blocks, text = outcome_blocks(request)
        client = self._client(token)
        _call(client.chat_update, channel=post.channel_id, ts=post.message_ref, blocks=blocks, text=text)

    def tell(self, token: str, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        """A message in `channel` only `user` sees."""
        options: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        client = self._client(token)
        _call(client.chat_postEphemeral, channel=channel, user=user, text=text, **options)

    def open_modal(self, token: str, trigger_id: str, view: Block) -> None:
        _call(self._client(token).views_open, trigger_id=trigger_id, view=view)

    def _client(self, token: str) -> WebClient:
        return WebClient(token=token, base_url=self._api_url, timeout=TIMEOUT_SECONDS)


def _call(method: Callable[..., SlackResponse], **arguments: Any) -> SlackResponse:
    try:
        return method(**arguments)
    except SlackApiError as exc:
        raise _refused(exc) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise SendError(f"Slack could not be reached: {exc}", permanent=False) from exc


def _refused(exc: SlackApiError) -> SendError:
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or "no error named")
    status = response.status_code
    transient = status == 429 or status >= 500 or error in TRANSIENT_ERRORS
    message = f"Slack refused {response.api_url.rsplit('/', 1)[-1]}: {error} (HTTP {status})"
    retry_after = seconds_asked(response.headers.get("Retry-After") or response.headers.get("retry-after"))
    if retry_after is not None:
        message += f", retry after {retry_after:g} s"
    return SendError(message, permanent=not transient, retry_after=retry_after)
