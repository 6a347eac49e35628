"""Helpers for the framework and example tests: importing frameworks and examples, and a person's answers."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import pytest
import requests

from signoff import ContactChannel, EmailContactChannel, HumanLayer

from signoff_testing import MailSink, RunningService, link_after, reply_headers, send_email, wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# CI sets this so that a framework missing from the test extra fails the run instead of skipping.
REQUIRE_FRAMEWORKS = os.environ.get("SIGNOFF_TEST_REQUIRE_FRAMEWORKS") == "1"


def import_framework(module: str, package: str) -> ModuleType:
    """Import a framework that the `test` extra installs, or skip the test module saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        message = f"{package} is not installed ({exc}); pip install '.[test]' brings it"
        if REQUIRE_FRAMEWORKS:
            pytest.fail(f"{message}, and SIGNOFF_TEST_REQUIRE_FRAMEWORKS=1 requires it", pytrace=False)
        pytest.skip(message, allow_module_level=True)
        raise  # unreachable: pytest.skip raises


def require_optional_framework(module: str, package: str, why_not_in_test_extra: str) -> None:
    """Skip the test module, whatever CI requires, unless a framework left out of the `test` extra is here.

    It is only looked up, not imported: its tests run it in a subprocess, so that what it writes
    at import (into the home directory) lands in the test's temporary directory instead.
    """
    if importlib.util.find_spec(module) is None:
        pytest.skip(
            f"{package} is not installed; it is not in the test extra because {why_not_in_test_extra}. "
            f"To run these tests: pip install {package} into the test virtualenv.",
            allow_module_level=True,
        )


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py as a module, the way `python examples/<name>.py` would see it."""
    spec = importlib.util.spec_from_file_location(f"signoff_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None, f"no example {name}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_building_layer(address: str, context_about_user: str | None = None) -> HumanLayer:
    """A HumanLayer that only builds tools for `address`, to look at; it never reaches a service."""
    channel = ContactChannel(
        email=EmailContactChannel(address=address, context_about_user=context_about_user)
    )
    return HumanLayer(api_key="unused", api_base_url="http://127.0.0.1:9", contact_channel=channel)


def example_env(service: RunningService, key: str, **extra: str) -> dict[str, str]:
    """The environment examples/README.md tells a user to set, and nothing of the developer's own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SIGNOFF_", "HUMANLAYER_", "OPENAI_"))
    }
    env.update(SIGNOFF_API_KEY=key, SIGNOFF_API_BASE=service.api_url, **extra)
    return env


def start_example(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def in_background(fn: Callable[..., object], *args: object) -> Future:
    """Run an agent in a daemon thread: one left waiting by a failed test must not hold up pytest's exit."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the future
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


# A framework's first agent run in a fresh virtualenv also starts its engine (ControlFlow starts
# Prefect's), which took 23 s warm and over 30 s cold; the mail waits that long behind it.
FIRST_MAIL_SECONDS = 120


def wait_for_mail_about(
    mail_sink: MailSink, address: str, subject_text: str, agent: Future | None = None
) -> EmailMessage:
    """The first mail to `address` whose subject mentions `subject_text`; if the `agent`
    running in the background fails first, its error is raised instead of waiting on."""

    def find() -> EmailMessage | None:
        if agent is not None and agent.done() and agent.exception() is not None:
            raise AssertionError("the agent failed before any mail was sent") from agent.exception()
        matching = [m for m in mail_sink.messages_to(address) if subject_text in str(m["Subject"])]
        return matching[0] if matching else None

    what = f"a mail to {address} about {subject_text!r}"
    return wait_until(find, timeout=FIRST_MAIL_SECONDS, what=what)  # type: ignore[return-value]


def click(message: EmailMessage, label: str, comment: str = "") -> None:
    """What a person does in the browser: open the link in the email, then submit its form."""
    link = link_after(message, label)
    assert requests.get(link, timeout=10).status_code == 200
    decided = requests.post(link, data={"text": comment}, timeout=10)
    assert decided.status_code == 200, decided.text


def reply(service: RunningService, person: str, message: EmailMessage, body: str) -> None:
    """What a person does in their mail program: reply to the email."""
    send_email(
        service.smtp_port,
        mail_from=person,
        to=str(message["Reply-To"]),
        subject=f"Re: {message['Subject']}",
        body=body,
        headers=reply_headers(message),
    )
