"""`signoff ask` and `signoff approve-run`: a person in the loop of a shell script.

Both talk to a running signoff service through the SDK, like any agent, and wait for the
person. Exit codes, so that scripts can branch on them:

    0   answered (ask), or approved and the command exited 0 (approve-run)
    1   rejected (approve-run); the person's comment is on stderr
    2   wrong usage
    3   nobody answered within --timeout
    4   the service could not be asked (unreachable, bad key, refused the request)

approve-run passes on the approved command's own exit code, 126 if it cannot be run and
127 if it is not found, as shells do.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click

from signoff import (
    ContactChannel,
    EmailContactChannel,
    EmailRecipient,
    FunctionCallSpec,
    HumanContactSpec,
    HumanLayer,
    SignoffError,
    SignoffTimeoutError,
)

from .config import Settings

EXITS_HELP = """\b
Exit codes: 0 answered/approved, 1 rejected, 2 wrong usage, 3 timed out,
4 the service could not be asked; approve-run passes on the command's own code."""

EXIT_REJECTED = 1
EXIT_TIMED_OUT = 3
EXIT_SERVICE_ERROR = 4
EXIT_CANNOT_RUN = 126
EXIT_NOT_FOUND = 127

Result = TypeVar("Result")


def _service_options(command: Callable[..., object]) -> Callable[..., object]:
    """The options both commands take to reach the service and the person."""
    options = [
        click.option(
            "--to",
            "addresses",
            multiple=True,
            required=True,
            metavar="ADDRESS",
            help="Who is asked, by email (repeat for several people; any one of them answers).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=None,
            metavar="SECONDS",
            help="Give up after this long (exit code 3). Default: wait until someone answers.",
        ),
        click.option(
            "--api-key",
            envvar=["SIGNOFF_API_KEY", "HUMANLAYER_API_KEY"],
            help="A project's API key (`signoff keys create`). Env: SIGNOFF_API_KEY.",
        ),
        click.option(
            "--api-base",
            envvar=["SIGNOFF_API_BASE", "HUMANLAYER_API_BASE"],
            help="The service's URL. Env: SIGNOFF_API_BASE. Default: base_url from the config.",
        ),
        click.option("--run-id", help="Groups requests in the service (default: a new id per call)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command("ask", epilog=EXITS_HELP)
@_service_options
@click.option("--subject", help="The email's subject (default: the start of the question).")
@click.argument("question")
@click.pass_obj
def ask(
    settings: Settings,
    addresses: tuple[str, ...],
    timeout: float | None,
    api_key: str | None,
    api_base: str | None,
    run_id: str | None,
    subject: str | None,
    question: str,
) -> None:
    """Email QUESTION to a person, wait for the answer and print it ('-' reads QUESTION from stdin)."""
    if question == "-":
        question = sys.stdin.read()
    if not question.strip():
        raise click.UsageError("the question is empty")
    layer = _layer(settings, addresses, timeout, api_key, api_base, run_id, "signoff ask")
    spec = HumanContactSpec(msg=question, subject=subject)
    contact = _wait_or_exit(lambda: layer.fetch_human_response(spec), addresses)
    click.echo(contact.as_completed())


@click.command("approve-run", epilog=EXITS_HELP, context_settings={"ignore_unknown_options": True})
@_service_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_obj
def approve_run(
    settings: Settings,
    addresses: tuple[str, ...],
    timeout: float | None,
    api_key: str | None,
    api_base: str | None,
    run_id: str | None,
    command: tuple[str, ...],
) -> None:
    """Ask a person to approve COMMAND and run it only if they do.

    \b
    signoff approve-run --to ops@example.com -- ./deploy.sh production
    """
    layer = _layer(settings, addresses, timeout, api_key, api_base, run_id, "signoff approve-run")
    spec = FunctionCallSpec(
        fn="run_command",
        kwargs={"command": shlex.join(command), "working_directory": os.getcwd()},
    )
    decision = _wait_or_exit(lambda: layer.fetch_approval(spec), addresses).as_completed()
    if not decision.approved:
        click.echo(f"signoff: rejected: {decision.comment}", err=True)
        sys.exit(EXIT_REJECTED)
    sys.exit(_run(command))


def _layer(
    settings: Settings,
    addresses: tuple[str, ...],
    timeout: float | None,
    api_key: str | None,
    api_base: str | None,
    run_id: str | None,
    agent_name: str,
) -> HumanLayer:
    if not api_key:
        raise click.UsageError("an API key is needed: pass --api-key or set SIGNOFF_API_KEY")
    first, *others = addresses
    channel = ContactChannel(
        email=EmailContactChannel(
            address=first,
            additional_recipients=[EmailRecipient(address=address) for address in others] or None,
        )
    )
    return HumanLayer.cloud(
        api_key=api_key,
        api_base_url=api_base or settings.public_base_url,
        run_id=run_id,
        agent_name=agent_name,
        contact_channel=channel,
        wait_timeout_seconds=timeout,
    )


def _wait_or_exit(wait: Callable[[], Result], addresses: tuple[str, ...]) -> Result:
    click.echo(f"signoff: asked {', '.join(addresses)}; waiting for an answer", err=True)
    try:
        return wait()
    except SignoffTimeoutError as exc:
        _fail(f"no answer in time: {exc}", EXIT_TIMED_OUT)
    except SignoffError as exc:
        _fail(f"could not ask: {exc}", EXIT_SERVICE_ERROR)


def _run(command: tuple[str, ...]) -> int:
    if shutil.which(command[0]) is None:
        click.echo(f"signoff: command not found: {command[0]}", err=True)
        return EXIT_NOT_FOUND
    try:
        # The command is the one the person typed after `--`; running it is the point.
        finished = subprocess.run(command, check=False)  # noqa: S603
    except OSError as exc:
        click.echo(f"signoff: cannot run {command[0]}: {exc}", err=True)
        return EXIT_CANNOT_RUN
    # A command killed by a signal reports it as a shell would: 128 + the signal number.
    return finished.returncode if finished.returncode >= 0 else 128 - finished.returncode


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"signoff: {message}", err=True)
    sys.exit(code)
