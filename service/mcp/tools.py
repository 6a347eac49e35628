"""What the two MCP tools do, whatever the transport: ask through the store, wait, answer.

`request_approval` answers in the permission-prompt contract that Claude Code's
`--permission-prompt-tool` reads: `{"behavior": "allow", "updatedInput": ...}` or
`{"behavior": "deny", "message": ...}`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic import ValidationError
from sqlalchemy import Row

from signoff.models import (
    MAX_ID_LENGTH,
    ContactChannel,
    EmailContactChannel,
    FunctionCallSpec,
    HumanContactSpec,
)

from ..context import Runtime
from ..decisions import withdraw
from ..errors import InvalidRequest
from ..requesting import CallIdTaken, NewRequest, create_decided_request, create_request
from ..store.models import FUNCTION_CALL, HUMAN_CONTACT, HumanRequest
from ..store.requests import Decision, status_by_id
from ..waiting import request_key
from .policy import Outcome, Policy

log = logging.getLogger(__name__)

VIA = "mcp"
POLICY_CHANNEL = "policy"
RUN_ID = "mcp"
# How often a waiting call tells a client that asked for progress that it is still waiting.
PROGRESS_SECONDS = 2.0
_SAFE_CALL_ID = re.compile(r"[A-Za-z0-9_.\-]+")

Progress = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class ToolSettings:
    """How one MCP server asks: where its requests go, how long they wait, its rules."""

    email: str
    timeout_seconds: int
    policy: Policy

    @classmethod
    def from_runtime(
        cls, runtime: Runtime, email: str | None = None, timeout: int | None = None
    ) -> ToolSettings:
        settings = runtime.settings
        return cls(
            email=email or settings.mcp_email,
            timeout_seconds=settings.mcp_timeout_seconds if timeout is None else timeout,
            policy=Policy.from_texts(settings.mcp_allow, settings.mcp_ask, settings.mcp_deny),
        )


def call_id_for(tool_use_id: str | None) -> str:
    """The same call_id for every retry of one tool use; a fresh one when there is no id."""
    if not tool_use_id:
        return f"mcp-{uuid.uuid4().hex}"
    if len(tool_use_id) <= MAX_ID_LENGTH and _SAFE_CALL_ID.fullmatch(tool_use_id):
        return tool_use_id
    return "mcp-" + hashlib.sha256(tool_use_id.encode("utf-8")).hexdigest()


class Tools:
    def __init__(self, runtime: Runtime, settings: ToolSettings) -> None:
        self._runtime = runtime
        self._settings = settings

    async def request_approval(
        self,
        project_id: int,
        tool_name: str,
        tool_input: dict[str, Any],
        tool_use_id: str | None,
        progress: Progress,
    ) -> str:
        """Ask (or let a rule decide) whether the tool may run; the contract's JSON text."""
        outcome = self._settings.policy.decide(tool_name, tool_input)
        spec = _valid(
            FunctionCallSpec,
            fn=tool_name,
            kwargs=tool_input,
            channel=self._channel(),
            timeout_seconds=self._settings.timeout_seconds or None,
            on_timeout="reject",
        )
        new = NewRequest(project_id, FUNCTION_CALL, RUN_ID, call_id_for(tool_use_id), spec)
        request_id = await anyio.to_thread.run_sync(self._create_call, new, outcome)
        found = await self._wait(request_id, progress)
        if found.approved:
            return json.dumps({"behavior": "allow", "updatedInput": found.spec["kwargs"]})
        message = found.comment or f"The person asked did not allow {tool_name}."
        return json.dumps({"behavior": "deny", "message": message})

    async def ask_human(self, project_id: int, question: str, subject: str | None, progress: Progress) -> str:
        """Email a question and return the person's answer."""
        spec = _valid(
            HumanContactSpec,
            msg=question,
            subject=subject,
            channel=self._channel(),
            timeout_seconds=self._settings.timeout_seconds or None,
        )
        new = NewRequest(project_id, HUMAN_CONTACT, RUN_ID, call_id_for(None), spec)
        request_id = await anyio.to_thread.run_sync(self._create, new)
        found = await self._wait(request_id, progress)
        return found.response or ""

    def _channel(self) -> ContactChannel | None:
        # None: the project's default channel, which create_request looks up.
        if not self._settings.email:
            return None
        return _valid(ContactChannel, email=EmailContactChannel(address=self._settings.email))

    def _create_call(self, new: NewRequest, outcome: Outcome) -> int:
        if outcome.rule is None or outcome.behavior == "ask":
            return self._create(new)
        decision = _rule_decision(outcome)
        with self._runtime.database.sessions() as session:
            try:
                created = create_decided_request(
                    session, self._runtime, new, decision, actor=decision.decided_by, via=POLICY_CHANNEL
                )
            except CallIdTaken as taken:
                return taken.existing.id
        log.info("mcp: %s %s by %s", new.spec.fn, outcome.behavior, outcome.actor)  # type: ignore[union-attr]
        return created.id

    def _create(self, new: NewRequest) -> int:
        with self._runtime.database.sessions() as session:
            try:
                return create_request(session, self._runtime, new, actor=VIA, via=VIA).id
            except CallIdTaken as taken:
                # A retried tool use: wait on the request asked first; no one is asked twice.
                return taken.existing.id

    async def _wait(self, request_id: int, progress: Progress) -> Row[Any]:
        """The request once decided; a cancelled wait withdraws it."""
        try:
            return await self._wait_decided(request_id, progress)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._withdraw, request_id)
            raise

    async def _wait_decided(self, request_id: int, progress: Progress) -> Row[Any]:
        waited = 0.0
        hub = self._runtime.hub
        while True:
            # Subscribe before reading, so a decision in between still wakes us.
            ticket = hub.subscribe(request_key(request_id))
            try:
                found = await anyio.to_thread.run_sync(self._status, request_id)
                if found.responded_at is not None:
                    return found
                fired = await ticket.wait_async(PROGRESS_SECONDS)
            finally:
                hub.release(ticket)
            if not fired:
                waited += PROGRESS_SECONDS
                await progress(waited)

    def _status(self, request_id: int) -> Row[Any]:
        with self._runtime.database.sessions() as session:
            return status_by_id(session, request_id)

    def _withdraw(self, request_id: int) -> None:
        with self._runtime.database.sessions() as session:
            request = session.get(HumanRequest, request_id)
            if request is None or not withdraw(session, request, by="the MCP client", via=VIA):
                return
            session.commit()
        self._runtime.request_decided(request_id)
        log.info("mcp: request %s withdrawn: its tool call was cancelled", request_id)


def _rule_decision(outcome: Outcome) -> Decision:
    allowed = outcome.behavior == "allow"
    comment = None if allowed else f"signoff's policy denies this call ({outcome.actor})."
    return Decision(decided_by=outcome.actor, decided_via=POLICY_CHANNEL, approved=allowed, comment=comment)


def _valid(model: type[Any], **fields: Any) -> Any:
    try:
        return model(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InvalidRequest(f"{where}: {error['msg']}") from exc
