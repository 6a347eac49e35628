"""`HumanLayer`: gate an agent's function calls on a person's approval, or ask a person a question.

The same names and behaviour as HumanLayer's SDK, so agents written for it run against signoff
by changing the import.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, ParamSpec, Self, TypeVar

from pydantic_core import to_jsonable_python

from .client import DEFAULT_HTTP_TIMEOUT_SECONDS, DEFAULT_POLL_SECONDS, SignoffClient, resolve_api_key
from .exceptions import ApprovalTimedOutError, SignoffError, UserDeniedError
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

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
SpecT = TypeVar("SpecT", FunctionCallSpec, HumanContactSpec)

# Keeps generated run ids well inside the wire format's id length limit.
MAX_RUN_SLUG_LENGTH = 60


class ApprovalMethod(Enum):
    """Where a person answers: at this terminal, or by email through the signoff service."""

    CLI = "cli"
    BACKEND = "backend"


def new_id(prefix: str) -> str:
    """A fresh id such as `call-Xh3kq9Lm2PwA`."""
    return f"{prefix}-{secrets.token_urlsafe(9)}"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:MAX_RUN_SLUG_LENGTH].strip("-") or "agent"


def arguments_for_display(fn: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    """Every argument of one call, by parameter name, in a form JSON can carry.

    Positional arguments are named too, otherwise the person approving would not see them.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        # Some builtins have no signature to bind against.
        shown: dict[str, Any] = {"args": list(args)} if args else {}
        return to_jsonable_python({**shown, **kwargs}, fallback=repr)
    # A call that does not fit the signature fails here, before anyone is asked about it.
    bound = signature.bind(*args, **kwargs)
    parameters = list(signature.parameters.values())
    receiver = parameters[0].name if parameters and parameters[0].name in ("self", "cls") else None
    shown = {}
    for name, value in bound.arguments.items():
        if name == receiver:
            continue
        if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
            shown.update(value)
        else:
            shown[name] = value
    return to_jsonable_python(shown, fallback=repr)


def name_contact_tool(tool: Callable[..., str], channel: ContactChannel | None) -> None:
    """Name and describe the tool after its channel: LLM frameworks show both to the model."""
    if channel is None:
        return
    if channel.email is not None:
        _name_email_tool(tool, channel.email.address, channel.email.context_about_user)
        return
    for route_name in ("slack", "discord"):
        route = getattr(channel, route_name)
        if route is not None:
            _name_chat_tool(tool, route_name, route.context_about_channel_or_user)
            return


def _identifier(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _name_email_tool(tool: Callable[..., str], address: str, context: str | None) -> None:
    suffix = _identifier(address)
    name = f"contact_human_via_email_{suffix}" if suffix else "contact_human_via_email"
    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = "Contact a human via email and wait for the response."
    if context:
        tool.__doc__ += f"\n\nAbout this person: {context}"


def _name_chat_tool(tool: Callable[..., str], platform: str, context: str | None) -> None:
    # As HumanLayer's docs show it: "a DM with the head of sales" makes
    # contact_human_in_a_dm_with_the_head_of_sales.
    suffix = _identifier(context or "") or platform
    tool.__name__ = tool.__qualname__ = f"contact_human_in_{suffix}"
    tool.__doc__ = f"Contact a human via {platform} and wait for the response"
    tool.__doc__ += f" in {context}." if context else "."


def function_call_decided(call: FunctionCall) -> bool:
    return call.status is not None and call.status.approved is not None


def human_contact_answered(contact: HumanContact) -> bool:
    return contact.status is not None and contact.status.response is not None


# What happens when the request's own timeout passes: the server rejects ("reject", and the
# model reads why), approves ("approve"), or rejects and the call raises ApprovalTimedOutError.
OnTimeout = Literal["reject", "approve", "raise"]


@dataclass(frozen=True)
class ApprovalOptions:
    """How one decorated function asks: to whom, with which reject options, for how long."""

    contact_channel: ContactChannel | None = None
    reject_options: list[ResponseOption] | None = None
    timeout_seconds: float | None = None
    on_timeout: OnTimeout = "reject"


class _ApprovalDecorator:
    """What `require_approval()` returns: use it as `@decorator` or as `decorator.wrap(fn)`."""

    def __init__(self, decorate: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        self._decorate = decorate

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R | str]:
        return self._decorate(fn)

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R | str]:
        return self._decorate(fn)


def require_unique_option_names(options: list[ResponseOption] | None, argument: str) -> None:
    # Checked when the tool is made, not when an agent first calls it.
    names = [option.name for option in options or []]
    if len(names) != len(set(names)):
        raise SignoffError(f"{argument} must have unique names")


class HumanLayerBase:
    """What `HumanLayer` and `AsyncHumanLayer` share: settings, ids, and how answers read."""

    def __init__(
        self,
        api_key: str | None = None,
        api_base_url: str | None = None,
        run_id: str | None = None,
        agent_name: str | None = None,
        contact_channel: ContactChannel | None = None,
        verbose: bool = False,
        approval_method: ApprovalMethod | str | None = None,
        http_timeout_seconds: float = DEFAULT_HTTP_TIMEOUT_SECONDS,
        genid: Callable[[str], str] = new_id,
        sleep: Callable[[float], Any] = time.sleep,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        wait_timeout_seconds: float | None = None,
        api_token: str | None = None,
    ) -> None:
        # api_token: the spelling of HumanLayer's docs.
        api_key = resolve_api_key(api_key or api_token)
        if approval_method is not None:
            self.approval_method = ApprovalMethod(approval_method)
        elif api_key:
            self.approval_method = ApprovalMethod.BACKEND
        else:
            logger.info("No SIGNOFF_API_KEY or HUMANLAYER_API_KEY set; asking for approval on the terminal")
            self.approval_method = ApprovalMethod.CLI

        self.client: SignoffClient | None = None
        if self.approval_method is ApprovalMethod.BACKEND:
            if not api_key:
                raise SignoffError("the signoff service needs an API key: pass one or set SIGNOFF_API_KEY")
            self.client = SignoffClient(
                api_base_url,
                api_key,
                http_timeout_seconds=http_timeout_seconds,
                poll_seconds=poll_seconds,
                sleep=sleep,
            )

        self.agent_name = agent_name
        self.contact_channel = contact_channel
        self.verbose = verbose
        self.genid = genid
        self.sleep = sleep
        self.wait_timeout_seconds = wait_timeout_seconds
        self.run_id = (
            run_id
            or os.getenv("SIGNOFF_RUN_ID")
            or os.getenv("HUMANLAYER_RUN_ID")
            or genid(_slug(agent_name or "agent"))
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(approval_method={self.approval_method.value!r}, run_id={self.run_id!r})"
        )

    @classmethod
    def cli(cls, **kwargs: Any) -> Self:
        """Ask at this terminal, whatever keys the environment holds."""
        return cls(approval_method=ApprovalMethod.CLI, **kwargs)

    @classmethod
    def cloud(cls, api_key: str | None = None, api_base_url: str | None = None, **kwargs: Any) -> Self:
        """Ask through the signoff service; an API key is required."""
        return cls(
            api_key=api_key,
            api_base_url=api_base_url,
            approval_method=ApprovalMethod.BACKEND,
            **kwargs,
        )

    def _require_client(self) -> SignoffClient:
        if self.client is None:
            raise SignoffError(
                f"this needs the signoff service, but {type(self).__name__} is in CLI mode; "
                "pass api_key or set SIGNOFF_API_KEY"
            )
        return self.client

    def _report(self, message: str) -> None:
        logger.info("%s", message)
        if self.verbose:
            print(f"signoff: {message}")

    def _with_default_channel(self, spec: SpecT) -> SpecT:
        if spec.channel is None and self.contact_channel is not None:
            return spec.model_copy(update={"channel": self.contact_channel})
        return spec

    def _new_function_call(self, spec: FunctionCallSpec, call_id: str | None) -> FunctionCall:
        return FunctionCall(run_id=self.run_id, call_id=call_id or self.genid("call"), spec=spec)

    def _new_human_contact(self, spec: HumanContactSpec, call_id: str | None) -> HumanContact:
        return HumanContact(run_id=self.run_id, call_id=call_id or self.genid("call"), spec=spec)

    def _approval_spec(
        self, fn_name: str, arguments: dict[str, Any], options: ApprovalOptions
    ) -> FunctionCallSpec:
        return FunctionCallSpec(
            fn=fn_name,
            kwargs=arguments,
            channel=options.contact_channel or self.contact_channel,
            reject_options=options.reject_options,
            timeout_seconds=options.timeout_seconds,
            on_timeout="approve" if options.on_timeout == "approve" else "reject",
        )

    def _denial(
        self, fn_name: str, completed: FunctionCall.Completed, options: ApprovalOptions
    ) -> str | None:
        """None when approved, else the sentence the agent's model reads instead of a result."""
        decision = completed.as_completed()
        if decision.approved:
            self._report(f"human approved {fn_name}")
            return None
        status = completed.call.status
        if status is not None and status.timed_out:
            self._report(f"no one decided on {fn_name} in time")
            if options.on_timeout == "raise":
                raise ApprovalTimedOutError(decision.comment)
            return decision.comment
        if status is not None and status.withdrawn:
            self._report(f"the request to run {fn_name} was withdrawn")
            return decision.comment
        self._report(f"human denied {fn_name} with message: {decision.comment}")
        return f"User denied {fn_name} with message: {decision.comment}"

    def _question_spec(
        self,
        message: str,
        subject: str | None,
        channel: ContactChannel | None,
        response_options: list[ResponseOption] | None,
        timeout_seconds: float | None = None,
    ) -> HumanContactSpec:
        if channel is not None and channel.email is not None and channel.email.subject:
            # The channel's subject keeps the reply in an existing email thread,
            # which matters more than whatever subject the model came up with.
            subject = channel.email.subject
        return HumanContactSpec(
            msg=message,
            subject=subject,
            channel=channel,
            response_options=response_options,
            timeout_seconds=timeout_seconds,
        )

    def _ask_for_approval_on_terminal(self, fn_name: str, arguments: dict[str, Any]) -> str | None:
        """None when approved at the terminal, else the denial to hand back to the agent."""
        print(f"\nAgent {self.run_id} wants to call\n\n{fn_name}({json.dumps(arguments, indent=2)})\n")
        try:
            feedback = input("Press ENTER to approve, or type feedback to deny: ").strip()
        except EOFError as exc:
            # No terminal means nobody can approve, and silence must never count as a yes.
            raise UserDeniedError(f"nobody approved {fn_name}: standard input is closed") from exc
        if feedback:
            return f"User denied {fn_name} with feedback: {feedback}"
        return None

    def _ask_on_terminal(self, message: str, subject: str | None) -> str:
        heading = f" ({subject})" if subject else ""
        print(f"\nAgent {self.run_id} asks{heading}:\n\n{message}\n")
        try:
            return input("Your answer: ")
        except EOFError as exc:
            raise SignoffError("nobody can answer: standard input is closed") from exc


class HumanLayer(HumanLayerBase):
    """Ask people before an agent acts, and ask them questions.

    With an API key (argument, SIGNOFF_API_KEY or HUMANLAYER_API_KEY) requests go to the
    signoff service and are answered by email; without one, they are asked at this terminal.
    """

    # Approvals

    def require_approval(
        self,
        contact_channel: ContactChannel | None = None,
        reject_options: list[ResponseOption] | None = None,
        timeout_seconds: float | None = None,
        on_timeout: OnTimeout = "reject",
    ) -> _ApprovalDecorator:
        """Decorate a function so every call waits for a person's approval.

        On approval the function runs and its result is returned. On rejection the function
        does not run, and the wrapper returns a sentence saying so, which the agent's model
        reads as the tool's result.
        """
        require_unique_option_names(reject_options, "reject_options")
        options = ApprovalOptions(contact_channel, reject_options, timeout_seconds, on_timeout)

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            if inspect.iscoroutinefunction(fn):
                raise TypeError(
                    f"require_approval cannot wrap the async function {fn.__name__}; use AsyncHumanLayer"
                )

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                arguments = arguments_for_display(fn, args, kwargs)
                denial = self._ask_for_approval(fn.__name__, arguments, options)
                if denial is not None:
                    return denial
                return fn(*args, **kwargs)

            return wrapper

        return _ApprovalDecorator(decorate)

    def _ask_for_approval(
        self,
        fn_name: str,
        arguments: dict[str, Any],
        options: ApprovalOptions,
    ) -> str | None:
        """None when approved, else the denial to hand back to the agent."""
        if self.approval_method is ApprovalMethod.CLI:
            return self._ask_for_approval_on_terminal(fn_name, arguments)
        spec = self._approval_spec(fn_name, arguments, options)
        return self._denial(fn_name, self.fetch_approval(spec), options)

    def fetch_approval(self, spec: FunctionCallSpec) -> FunctionCall.Completed:
        """Ask for approval and block until someone decides."""
        client = self._require_client()
        call = self.create_function_call(spec)
        if not function_call_decided(call):
            self._report(f"waiting for approval of {spec.fn}")
            call = client.wait_for_function_call(call.call_id, timeout=self.wait_timeout_seconds)
        return FunctionCall.Completed(call=call)

    def create_function_call(self, spec: FunctionCallSpec, call_id: str | None = None) -> FunctionCall:
        """Ask for approval without waiting for it."""
        call = self._new_function_call(self._with_default_channel(spec), call_id)
        return self._require_client().create_function_call(call)

    def get_function_call(self, call_id: str) -> FunctionCall:
        return self._require_client().get_function_call(call_id)

    def respond_to_function_call(self, call_id: str, status: FunctionCallStatus) -> FunctionCall:
        return self._require_client().respond_to_function_call(call_id, status)

    def escalate_email_function_call(self, call_id: str, escalation: Escalation) -> FunctionCall:
        return self._require_client().escalate_email_function_call(call_id, escalation)

    # Questions

    def human_as_tool(
        self,
        contact_channel: ContactChannel | None = None,
        response_options: list[ResponseOption] | None = None,
        timeout_seconds: float | None = None,
    ) -> Callable[..., str]:
        """A tool an agent can call to ask a person something; it returns their answer."""
        require_unique_option_names(response_options, "response_options")
        channel = contact_channel or self.contact_channel

        def contact_human(message: str, subject: str | None = None) -> str:
            """Ask a human a question and wait for the answer."""
            if self.approval_method is ApprovalMethod.CLI:
                return self._ask_on_terminal(message, subject)
            spec = self._question_spec(message, subject, channel, response_options, timeout_seconds)
            return self.fetch_human_response(spec).as_completed()

        name_contact_tool(contact_human, channel)
        return contact_human

    def fetch_human_response(self, spec: HumanContactSpec) -> HumanContact.Completed:
        """Ask a person a question and block until they answer."""
        client = self._require_client()
        contact = self.create_human_contact(spec)
        if not human_contact_answered(contact):
            self._report("waiting for a human to answer")
            contact = client.wait_for_human_contact(contact.call_id, timeout=self.wait_timeout_seconds)
        return HumanContact.Completed(contact=contact)

    def create_human_contact(self, spec: HumanContactSpec, call_id: str | None = None) -> HumanContact:
        """Ask a person a question without waiting for the answer."""
        contact = self._new_human_contact(self._with_default_channel(spec), call_id)
        return self._require_client().create_human_contact(contact)

    def get_human_contact(self, call_id: str) -> HumanContact:
        return self._require_client().get_human_contact(call_id)

    def respond_to_human_contact(self, call_id: str, status: HumanContactStatus) -> HumanContact:
        return self._require_client().respond_to_human_contact(call_id, status)

    def escalate_email_human_contact(self, call_id: str, escalation: Escalation) -> HumanContact:
        return self._require_client().escalate_email_human_contact(call_id, escalation)


__all__ = ["ApprovalMethod", "HumanLayer", "HumanLayerBase", "new_id"]
