"""A local stand-in for Slack's Web API: an HTTP server that records calls and answers as Slack does.

It takes the methods signoff calls (`chat.postMessage`, `chat.update`, `chat.postEphemeral`,
`views.open`) at `<url><method>`, as JSON or form bodies, checks the `Authorization: Bearer`
token against the tokens it was given, and answers with the fields Slack's documentation
lists for each. `fail_next` makes the next call of a method fail the way Slack fails: an
`{"ok": false, "error": ...}` body, or an HTTP status such as 429 with Retry-After, for calls
to one channel, so that no other test's call takes the failure.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from signoff_testing import wait_until

BOT_USER_ID = "UBOTSIGNOFF"
BOT_ID = "BSIGNOFF"


@dataclass(frozen=True)
class SlackCall:
    """One Web API call as the stand-in received it, and what it answered."""

    method: str
    token: str
    args: dict[str, Any]
    answer: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.answer.get("ok"))


@dataclass(frozen=True)
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class SlackStandIn:
    tokens: set[str]
    port: int = 0
    calls: list[SlackCall] = field(default_factory=list)
    _failures: dict[tuple[str, str], list[Failure]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def fail_next(
        self, method: str, channel: str, error: str = "", status: int = 200, retry_after: int | None = None
    ) -> None:
        """The next call of `method` to `channel` fails: `{"ok": false, "error": error}` at HTTP `status`."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        failure = Failure(status, {"ok": False, "error": error or "ratelimited"}, headers)
        with self._lock:
            self._failures.setdefault((method, channel), []).append(failure)

    def calls_to(
        self, method: str, where: Callable[[SlackCall], bool] = lambda call: True
    ) -> list[SlackCall]:
        with self._lock:
            return [call for call in self.calls if call.method == method and where(call)]

    def wait_for(
        self, method: str, where: Callable[[SlackCall], bool] = lambda call: True, count: int = 1
    ) -> SlackCall:
        """The `count`th successful call of `method` matching `where`, once it has come."""
        found = wait_until(
            lambda: (
                (calls := self.calls_to(method, lambda c: c.ok and where(c)))
                and len(calls) >= count
                and calls
            ),
            what=f"{method} call number {count}",
        )
        return found[count - 1]  # type: ignore[index]

    def answer(
        self, method: str, token: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            pending = self._failures.get((method, str(args.get("channel"))))
            failure = pending.pop(0) if pending else None
        if failure is not None:
            status, body, headers = failure.status, failure.body, failure.headers
        elif token not in self.tokens:
            status, body, headers = 200, {"ok": False, "error": "invalid_auth"}, {}
        else:
            status, body, headers = 200, self._success(method, args), {}
        with self._lock:
            self.calls.append(SlackCall(method, token, args, body))
        return status, body, headers

    def _success(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "chat.postMessage":
            return self._posted(args)
        if method == "chat.update":
            return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.open":
            view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
            return {"ok": True, "view": {**view, "id": f"V{next(self._ts):08d}"}}
        return {"ok": False, "error": "unknown_method"}

    def _posted(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args["channel"]
        if channel.startswith(("U", "W")):
            channel = "D" + channel[1:]  # a message to a person goes to the app's DM with them
        ts = self._next_ts()
        message = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
            "text": args.get("text", ""),
        }
        if "blocks" in args:
            message["blocks"] = args["blocks"]
        if "thread_ts" in args:
            message["thread_ts"] = args["thread_ts"]
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"


def serve_slack_standin(tokens: set[str]) -> Iterator[SlackStandIn]:
    """A SlackStandIn on a free loopback port, accepting `tokens`, until closed."""
    standin = SlackStandIn(tokens=tokens)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            method = self.path.rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            status, answer, headers = standin.answer(
                method, token if scheme == "Bearer" else "", _args(self, body)
            )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield standin
    server.shutdown()
    server.server_close()


def _args(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    # slack_sdk sends most methods as JSON; Slack takes form bodies too, with JSON-encoded fields.
    if handler.headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(body or b"{}")
    args: dict[str, Any] = dict(parse_qsl(body.decode()))
    for name in ("blocks", "view"):
        if name in args:
            args[name] = json.loads(args[name])
    return args
