"""`AsyncHumanLayer`: the same as `HumanLayer`, for agents that run on asyncio.

>>> hl = AsyncHumanLayer(contact_channel=...)
>>> @hl.require_approval()
... async def transfer(amount: int) -> str: ...
>>> await transfer(100)  # returns once a person has decided
>>> await hl.human_as_tool()("Which region?")

HTTP goes through the same `SignoffClient` as the blocking class, each call in a thread of
its own, so retries, long-polls and error handling have one implementation. Those threads
are daemons, and a wait is a series of bounded long-polls: cancelling an awaiting task
leaves at most one poll to run out in the background, and never keeps the program from
exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .approval import (
    ApprovalMethod,
    ApprovalOptions,
    HumanLayerBase,
    OnTimeout,
    arguments_for_display,
    function_call_decided,
    human_contact_answered,
    name_contact_tool,
    require_unique_option_names,
)
from .exceptions import SignoffTimeoutError
from .models import (
    ContactChannel,
    Escalation,
    FunctionCall,
    FunctionCallSpec,
    FunctionCallStatus,
    HumanContact,
    HumanContactSpec,
    HumanContactStatus,
    ResponseOption,
)

Result = TypeVar("Result")


async def in_thread(fn: Callable[..., Result], *args: Any) -> Result:
    """Run a blocking call in a daemon thread and await its result.

    Unlike `asyncio.to_thread`, nothing waits for the thread at shutdown, and no pool of a
    few workers queues long-polls behind one another.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Result] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():  # the awaiting task was cancelled meanwhile
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def run() -> None:
        result, error = None, None
        try:
            result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - every failure belongs to the awaiting task
            error = exc
        # A closed loop means nobody awaits this result any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name=f"signoff-{getattr(fn, '__name__', 'call')}", daemon=True).start()
    return await future


class _AsyncApprovalDecorator:
    """What `AsyncHumanLayer.require_approval()` returns: `@decorator` or `decorator.wrap(fn)`."""

    def __init__(self, decorate: Callable[[Callable[..., Any]], Callable[..., Awaitable[Any]]]) -> None:
        self._decorate = decorate

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        return self._decorate(fn)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        return self._decorate(fn)


class AsyncHumanLayer(HumanLayerBase):
    """`HumanLayer` with awaitable methods; decorated functions may be sync or async.

    Takes the same arguments as `HumanLayer`. In CLI mode the terminal prompt runs in a
    thread, so the event loop keeps running while a person types.
    """

    # Approvals

    def require_approval(
        self,
        contact_channel: ContactChannel | None = None,
        reject_options: list[ResponseOption] | None = None,
        timeout_seconds: float | None = None,
        on_timeout: OnTimeout = "reject",
    ) -> _AsyncApprovalDecorator:
        """Decorate a function so each call awaits a person's approval before it runs.

        The decorated function is always a coroutine function: `await fn(...)` gives the
        function's result once approved, or the denial sentence if rejected.
        """
        require_unique_option_names(reject_options, "reject_options")
        options = ApprovalOptions(contact_channel, reject_options, timeout_seconds, on_timeout)

        def decorate(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                arguments = arguments_for_display(fn, args, kwargs)
                denial = await self._ask_for_approval(fn.__name__, arguments, options)
                if denial is not None:
                    return denial
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
                return result

            return wrapper

        return _AsyncApprovalDecorator(decorate)

    async def _ask_for_approval(
        self,
        fn_name: str,
        arguments: dict[str, Any],
        options: ApprovalOptions,
    ) -> str | None:
        if self.approval_method is ApprovalMethod.CLI:
            return await in_thread(self._ask_for_approval_on_terminal, fn_name, arguments)
        spec = self._approval_spec(fn_name, arguments, options)
        return self._denial(fn_name, await self.fetch_approval(spec), options)

    async def fetch_approval(self, spec: FunctionCallSpec) -> FunctionCall.Completed:
        """Ask for approval and wait, without blocking the event loop, until someone decides."""
        client = self._require_client()
        call = await self.create_function_call(spec)
        if not function_call_decided(call):
            self._report(f"waiting for approval of {spec.fn}")
            what = f"function call {call.call_id}"
            call = await self._wait(client.wait_for_function_call, call.call_id, what)
        return FunctionCall.Completed(call=call)

    async def create_function_call(self, spec: FunctionCallSpec, call_id: str | None = None) -> FunctionCall:
        call = self._new_function_call(self._with_default_channel(spec), call_id)
        return await in_thread(self._require_client().create_function_call, call)

    async def get_function_call(self, call_id: str) -> FunctionCall:
        return await in_thread(self._require_client().get_function_call, call_id)

    async def respond_to_function_call(self, call_id: str, status: FunctionCallStatus) -> FunctionCall:
        return await in_thread(self._require_client().respond_to_function_call, call_id, status)

    async def escalate_email_function_call(self, call_id: str, escalation: Escalation) -> FunctionCall:
        return await in_thread(self._require_client().escalate_email_function_call, call_id, escalation)

    # Questions

    def human_as_tool(
        self,
        contact_channel: ContactChannel | None = None,
        response_options: list[ResponseOption] | None = None,
        timeout_seconds: float | None = None,
    ) -> Callable[..., Awaitable[str]]:
        """An async tool an agent can call to ask a person something; it returns their answer."""
        require_unique_option_names(response_options, "response_options")
        channel = contact_channel or self.contact_channel

        async def contact_human(message: str, subject: str | None = None) -> str:
            """Ask a human a question and wait for the answer."""
            if self.approval_method is ApprovalMethod.CLI:
                return await in_thread(self._ask_on_terminal, message, subject)
            spec = self._question_spec(message, subject, channel, response_options, timeout_seconds)
            return (await self.fetch_human_response(spec)).as_completed()

        name_contact_tool(contact_human, channel)
        return contact_human

    async def fetch_human_response(self, spec: HumanContactSpec) -> HumanContact.Completed:
        """Ask a person a question and wait, without blocking the event loop, for the answer."""
        client = self._require_client()
        contact = await self.create_human_contact(spec)
        if not human_contact_answered(contact):
            self._report("waiting for a human to answer")
            what = f"human contact {contact.call_id}"
            contact = await self._wait(client.wait_for_human_contact, contact.call_id, what)
        return HumanContact.Completed(contact=contact)

    async def create_human_contact(self, spec: HumanContactSpec, call_id: str | None = None) -> HumanContact:
        contact = self._new_human_contact(self._with_default_channel(spec), call_id)
        return await in_thread(self._require_client().create_human_contact, contact)

    async def get_human_contact(self, call_id: str) -> HumanContact:
        return await in_thread(self._require_client().get_human_contact, call_id)

    async def respond_to_human_contact(self, call_id: str, status: HumanContactStatus) -> HumanContact:
        return await in_thread(self._require_client().respond_to_human_contact, call_id, status)

    async def escalate_email_human_contact(self, call_id: str, escalation: Escalation) -> HumanContact:
        return await in_thread(self._require_client().escalate_email_human_contact, call_id, escalation)

    # Helpers

    async def _wait(self, wait_for: Callable[[str, float], Result], call_id: str, what: str) -> Result:
        """Wait in rounds of at most one long-poll each, so a cancelled wait stops soon."""
        client = self._require_client()
        timeout = self.wait_timeout_seconds
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            round_seconds = client.poll_seconds
            if deadline is not None:
                round_seconds = min(round_seconds, deadline - time.monotonic())
                if round_seconds <= 0:
                    raise SignoffTimeoutError(f"{what} was not decided within {timeout:g} s")
            try:
                return await in_thread(wait_for, call_id, round_seconds)
            except SignoffTimeoutError:
                continue  # this round ended undecided; the next one starts at once


__all__ = ["AsyncHumanLayer"]
