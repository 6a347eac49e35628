"""`signoff ask` and `signoff approve-run`, run from a shell against the running service."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    link_after,
    links_in,
    reply_headers,
    send_email,
    signoff_command,
    text_body,
    unique_address,
)


@pytest.fixture(scope="module")
def project_key(service: RunningService) -> str:
    # One project for the module; every test asks addresses of its own.
    return service.create_key("cli-ask")


class Shell:
    """Runs `signoff` commands as a user's script would, with the service's own config."""

    def __init__(self, service: RunningService, workdir: Path) -> None:
        self.service = service
        self.workdir = workdir
        self.started: list[subprocess.Popen[str]] = []

    def start(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [signoff_command(), *args],
            env=self.service.env | (env or {}),
            cwd=self.workdir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(process)
        assert process.stdin is not None
        process.stdin.write(stdin or "")
        process.stdin.close()
        process.stdin = None  # written and closed: communicate() must not touch it again
        return process

    def finish(self, process: subprocess.Popen[str]) -> tuple[int, str, str]:
        stdout, stderr = process.communicate(timeout=WAIT_SECONDS)
        return process.returncode, stdout, stderr

    def run(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        return self.finish(self.start(*args, env=env))

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def shell(service: RunningService, tmp_path: Path) -> Iterator[Shell]:
    running = Shell(service, tmp_path)
    yield running
    running.stop()


def test_ask_prints_the_emailed_reply_and_exits_0(
    shell: Shell, service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("cli-answerer")
    asking = shell.start(
        "ask", "--to", person, "--api-key", project_key, "--subject", "Release", "Ship today?"
    )

    question = mail_sink.wait_for_mail_to(person)
    assert "Ship today?" in text_body(question)
    assert "Release" in str(question["Subject"])
    send_email(
        service.smtp_port,
        mail_from=person,
        to=str(question["Reply-To"]),
        body="Yes, after the 3pm standup.",
        headers=reply_headers(question),
    )

    code, stdout, stderr = shell.finish(asking)
    assert code == 0, stderr
    assert stdout == "Yes, after the 3pm standup.\n"
    assert person in stderr  # says whom it is waiting for


def test_ask_reads_the_question_from_stdin_and_takes_an_answer_given_by_link(
    shell: Shell, service: RunningService, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("cli-linker")
    asking = shell.start(
        "ask",
        "--to",
        person,
        "-",
        env={"SIGNOFF_API_KEY": project_key, "SIGNOFF_API_BASE": service.api_url},
        stdin="Which tag should the\nrelease get?\n",
    )

    question = mail_sink.wait_for_mail_to(person)
    assert "Which tag should the\nrelease get?" in text_body(question)
    answered = requests.post(links_in(question)[0], data={"text": "v2.3.0"}, timeout=10)
    assert answered.status_code == 200

    code, stdout, stderr = shell.finish(asking)
    assert (code, stdout) == (0, "v2.3.0\n"), stderr


def test_ask_exits_3_when_nobody_answers_in_time(shell: Shell, mail_sink: MailSink, project_key: str) -> None:
    person = unique_address("cli-silent")

    code, stdout, stderr = shell.run(
        "ask", "--to", person, "--api-key", project_key, "--timeout", "1", "Hello?"
    )

    assert code == 3
    assert stdout == ""
    assert "no answer in time" in stderr
    mail_sink.wait_for_mail_to(person)  # the person was asked all the same


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ask", "--to", "someone@example.com", "Hello?"], "API key"),
        (["ask", "--api-key", "some-key", "Hello?"], "--to"),
        (["ask", "--to", "someone@example.com", "--api-key", "some-key", " "], "empty"),
        (["approve-run", "--to", "someone@example.com", "--api-key", "some-key"], "COMMAND"),
    ],
    ids=["no-key", "no-recipient", "empty-question", "no-command"],
)
def test_wrong_usage_exits_2_before_asking_anyone(args: list[str], says: str, tmp_path: Path) -> None:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("SIGNOFF_", "HUMANLAYER_"))
    }
    finished = subprocess.run(
        [signoff_command(), *args], env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert finished.returncode == 2
    assert says in finished.stderr and finished.stdout == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--to", "someone@example.com", "--api-key", "not-a-key"], "401"),
        (["--to", "not an address", "--api-key", "{key}"], "not a valid email address"),
    ],
    ids=["wrong-key", "bad-address"],
)
def test_a_request_the_service_refuses_exits_4_and_says_why(
    shell: Shell, project_key: str, args: list[str], says: str
) -> None:
    code, stdout, stderr = shell.run("ask", *[arg.replace("{key}", project_key) for arg in args], "Hello?")

    assert code == 4
    assert says in stderr and stdout == ""


def test_approve_run_runs_the_command_once_approved_and_passes_on_its_exit_code(
    shell: Shell, mail_sink: MailSink, project_key: str
) -> None:
    person = unique_address("cli-approver")
    script = "import sys; print('migrated', sys.argv[1]); sys.exit(7)"
    running = shell.start(
        "approve-run", "--to", person, "--api-key", project_key, "--", sys.executable, "-c", script, "--all"
    )

    request = mail_sink.wait_for_mail_to(person)
    assert "run_command" in text_body(request) and "migrated" in text_body(request)
    assert "--all" in text_body(request)
    assert running.poll() is None  # nothing runs before the person decides
    requests.post(link_after(request, "Approve:"), data={"text": ""}, timeout=10)

    code, stdout, stderr = shell.finish(running)
    assert code == 7, stderr
    assert stdout == "migrated --all\n"


def test_approve_run_does_not_run_a_rejected_command_and_exits_1_with_the_comment(
    shell: Shell, service: RunningService, mail_sink: MailSink, project_key: str, tmp_path: Path
) -> None:
    person = unique_address("cli-rejecter")
    marker = tmp_path / "dropped"
    running = shell.start("approve-run", "--to", person, "--api-key", project_key, "--", "touch", str(marker))

    request = mail_sink.wait_for_mail_to(person)
    send_email(
        service.smtp_port,
        mail_from=person,
        to=str(request["Reply-To"]),
        body="No.\nNot on a Friday.",
        headers=reply_headers(request),
    )

    code, stdout, stderr = shell.finish(running)
    assert (code, stdout) == (1, "")
    assert "rejected: Not on a Friday." in stderr
    assert not marker.exists()
