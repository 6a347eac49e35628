"""A chat model that plays a fixed script, so agent frameworks run offline and predictably.

A script is a list of steps, one per model call: `CallTool` asks for a tool call, `Answer` ends
the run with a text. The script records what the model was shown (the tools offered to it and
the tool results sent back), which is what a test asserts on. `ScriptedChatServer` serves a
script as an OpenAI-style chat-completions endpoint on loopback, for clients that speak HTTP.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOOL_RESULT = "{tool_result}"


@dataclass(frozen=True)
class CallTool:
    """The model asks for one call of the tool `name` with `arguments`.

    `name` may hold shell-style wildcards, for tools whose names a framework makes up at run
    time (ControlFlow's `mark_task_<id>_successful`): exactly one offered tool must match.
    """

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """The model's final text; `{tool_result}` stands for the latest tool result it was sent."""

    text: str


Step = CallTool | Answer


class ScriptError(AssertionError):
    """The agent did something the script did not expect."""


class Script:
    """Steps played one per model call, and what the model was shown along the way."""

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.offered_tools: dict[str, dict[str, Any]] = {}
        self.tool_results: list[str] = []
        self._position = 0
        self._call_ids = itertools.count(1)
        self._lock = threading.Lock()

    def next_step(self, offered: list[dict[str, Any]], tool_results: list[str]) -> Step:
        """The reply to one model call, given the tools offered (OpenAI function format) and the
        results of the tool calls so far in the conversation, oldest first."""
        with self._lock:
            offered_now = {tool["function"]["name"]: tool["function"] for tool in offered}
            self.offered_tools.update(offered_now)
            self.tool_results = list(tool_results)
            if self._position >= len(self.steps):
                raise ScriptError(f"the model was called again after its {len(self.steps)} scripted steps")
            step = self.steps[self._position]
            self._position += 1
        if isinstance(step, Answer):
            return Answer(step.text.replace(TOOL_RESULT, tool_results[-1] if tool_results else ""))
        matching = fnmatch.filter(offered_now, step.name)
        if len(matching) != 1:
            raise ScriptError(f"the script calls {step.name!r}, but the agent offered {list(offered_now)}")
        return CallTool(matching[0], step.arguments)

    def new_call_id(self) -> str:
        return f"call_{next(self._call_ids)}"


def chat_completion(step: Step, call_id: str, model: str) -> dict[str, Any]:
    """A chat-completions response body for one step."""
    if isinstance(step, CallTool):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": step.name, "arguments": json.dumps(step.arguments)},
                }
            ],
        }
        finish_reason = "tool_calls"
    else:
        message = {"role": "assistant", "content": step.text}
        finish_reason = "stop"
    return {
        "id": f"chatcmpl-{call_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def tool_messages(messages: list[dict[str, Any]]) -> list[str]:
    """The text of each tool result in a chat-completions conversation."""
    results = []
    for message in messages:
        if message.get("role") == "tool":
            content = message.get("content")
            if isinstance(content, list):
                content = "".join(part.get("text", "") for part in content)
            results.append(str(content))
    return results


class _ChatHandler(BaseHTTPRequestHandler):
    server: _ScriptedHTTPServer

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(404, {"error": {"message": f"no such endpoint {self.path}", "type": "not_found"}})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        self.server.requests.append(body)
        if body.get("stream"):
            self._send(400, {"error": {"message": "the scripted server does not stream", "type": "invalid"}})
            return
        script = self.server.script
        try:
            step = script.next_step(body.get("tools") or [], tool_messages(body.get("messages", [])))
        except ScriptError as exc:
            self.server.errors.append(str(exc))
            self._send(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
            return
        self._send(200, chat_completion(step, script.new_call_id(), body.get("model", "scripted")))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _ScriptedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _ChatHandler)
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.errors: list[str] = []


class ScriptedChatServer:
    """An OpenAI-compatible chat-completions endpoint on loopback that plays `script`."""

    def __init__(self, script: Script) -> None:
        self._server = _ScriptedHTTPServer(script)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def script(self) -> Script:
        return self._server.script

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._server.requests

    @property
    def errors(self) -> list[str]:
        return self._server.errors

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
