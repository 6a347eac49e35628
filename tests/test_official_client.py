"""HumanLayer's own client, unmodified from PyPI, pointed at signoff with its two env vars.

It runs in a virtualenv of its own (built once, kept under the temp dir), as a user's agent
would. Its polls are shortened through its public `sleep` argument only to keep the suite quick.

Where it depends on the shape of our answers:
- `FunctionCallStatus.as_completed()` raises on a rejection whose `comment` is None, and
  its decorator then hands the model "Error fetching approval ..." instead of the denial,
  so a rejection must always carry a string comment, even an empty one.
- It reads every response with `.json()` before looking at the status, so errors must be
  JSON too, or the caller sees a JSON decoding error instead of the HTTP error.
- It posts models with `model_dump()` (every field, None included, the `experimental_*`
  email fields too) and reads ours with `model_validate`, so field names must match.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from signoff import models

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    link_after,
    reply_headers,
    send_email,
    text_body,
    unique_address,
)
from signoff_venvs import cached_venv, fingerprint, run_python, start_python

# Every test here runs on one worker (--dist loadgroup), so that
# the virtualenv is built once, and no other worker waits for it.
pytestmark = pytest.mark.xdist_group("official-venv")

OFFICIAL_CLIENT = "humanlayer==0.7.9"
# CI sets this, so that a missing client fails the run instead of skipping these tests.
REQUIRE_OFFICIAL_CLIENT = os.environ.get("SIGNOFF_TEST_REQUIRE_OFFICIAL_CLIENT") == "1"

AGENT = """
import json, sys, time
from humanlayer import ContactChannel, EmailContactChannel, HumanLayer

hl = HumanLayer(
    run_id="official-client",
    sleep=lambda seconds: time.sleep(0.2),
    contact_channel=ContactChannel(email=EmailContactChannel(address=sys.argv[1])),
)

@hl.require_approval()
def send_invoice(customer: str, amount: int) -> str:
    return f"invoiced {customer} {amount}"

if sys.argv[2] == "approval":
    print(json.dumps(send_invoice(customer="ACME", amount=120)))
else:
    print(json.dumps(hl.human_as_tool()(message="Which plan should ACME get?")))
"""

API_CALLS = """
import asyncio, json, sys
from humanlayer import (
    AsyncHumanLayer, ContactChannel, EmailContactChannel, EmailRecipient, Escalation, FunctionCallSpec,
    FunctionCallStatus, HumanContactSpec, HumanContactStatus, HumanLayer, ResponseOption,
)

person, boss = sys.argv[1:3]
channel = ContactChannel(email=EmailContactChannel(address=person))
to_boss = [EmailRecipient(address=boss)]
hl = HumanLayer(run_id="official-calls", contact_channel=channel)
seen = {}

spec = FunctionCallSpec(
    fn="archive_project",
    kwargs={"project": "apollo"},
    channel=channel,
    state={"step": 2},
    reject_options=[ResponseOption(name="later", title="Not now")],
)
seen["created_call"] = hl.create_function_call(spec, call_id="official-call")
seen["got_call"] = hl.get_function_call("official-call")
seen["escalated_call"] = hl.escalate_email_function_call(
    "official-call",
    Escalation(escalation_msg="Please decide this one.", additional_recipients=to_boss),
)
rejection = FunctionCallStatus(approved=False, comment="Not this quarter", reject_option_name="later")
seen["responded_call"] = hl.respond_to_function_call("official-call", rejection)

question = HumanContactSpec(msg="What is the budget?", channel=channel, state={"thread": "t-1"})
seen["created_contact"] = hl.create_human_contact(question, call_id="official-contact")
seen["escalated_contact"] = hl.escalate_email_human_contact(
    "official-contact", Escalation(escalation_msg="Anyone?", additional_recipients=to_boss)
)
answer = HumanContactStatus(response="Ten thousand")
seen["responded_contact"] = hl.respond_to_human_contact("official-contact", answer)
seen["got_contact"] = hl.get_human_contact("official-contact")

async def through_the_async_client():
    async def quick_sleep(seconds):
        await asyncio.sleep(0.2)

    ahl = AsyncHumanLayer(run_id="official-async", contact_channel=channel, sleep=quick_sleep)
    await ahl.create_function_call(FunctionCallSpec(fn="reindex", kwargs={}), call_id="official-async")
    await ahl.respond_to_function_call("official-async", FunctionCallStatus(approved=True, comment="go"))
    return await ahl.get_function_call("official-async")

seen["async_call"] = asyncio.run(through_the_async_client())
print(json.dumps({name: item.model_dump(mode="json") for name, item in seen.items()}))
"""

ERRORS = """
import json
from humanlayer import HumanLayer

outcomes = {}
for name, key in (("unknown_key", "not-a-signoff-key"), ("unknown_call", None)):
    try:
        HumanLayer(api_key=key).get_function_call("call-nobody-made")
    except Exception as exc:
        outcomes[name] = {"type": type(exc).__name__, "message": str(exc)}
print(json.dumps(outcomes))
"""

MODEL_FIELDS = """
import json
from humanlayer.core import models

names = [name for name, value in vars(models).items() if isinstance(value, type)
         and issubclass(value, models.BaseModel) and value.__module__ == models.__name__]
print(json.dumps({name: sorted(getattr(models, name).model_fields) for name in names}))
"""


@pytest.fixture(scope="session")
def official_venv() -> Path:
    return cached_venv(
        "humanlayer",
        [OFFICIAL_CLIENT],
        fingerprint(OFFICIAL_CLIENT, sys.version),
        required=REQUIRE_OFFICIAL_CLIENT,
        why=f"the official client ({OFFICIAL_CLIENT}) is needed for the wire-compatibility tests",
    )


class OfficialAgent:
    """Runs scripts with the official client, configured only through its env vars."""

    def __init__(self, venv: Path, service: RunningService, key: str) -> None:
        self.venv = venv
        self.env = {"HUMANLAYER_API_KEY": key, "HUMANLAYER_API_BASE": service.api_url}
        self.running: list[subprocess.Popen[str]] = []

    def start(self, script: str, *args: str) -> subprocess.Popen[str]:
        process = start_python(self.venv, script, *args, env=self.env)
        self.running.append(process)
        return process

    def result(self, process: subprocess.Popen[str]) -> object:
        stdout, stderr = process.communicate(timeout=WAIT_SECONDS)
        assert process.returncode == 0, stderr
        return json.loads(stdout.strip().splitlines()[-1])

    def run(self, script: str, *args: str) -> object:
        finished = run_python(self.venv, script, *args, env=self.env, timeout=WAIT_SECONDS)
        assert finished.returncode == 0, finished.stderr
        return json.loads(finished.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.kill()
                process.communicate()


@pytest.fixture(scope="module")
def official_key(service: RunningService) -> str:
    # One project for the module: every test here uses call_ids and addresses of its own.
    return service.create_key("official-client")


@pytest.fixture
def official(official_venv: Path, service: RunningService, official_key: str) -> Iterator[OfficialAgent]:
    agent = OfficialAgent(official_venv, service, official_key)
    yield agent
    agent.stop()


def test_its_decorator_runs_the_function_once_approved_by_link(
    official: OfficialAgent, mail_sink: MailSink
) -> None:
    person = unique_address("official-approver")
    agent = official.start(AGENT, person, "approval")

    message = mail_sink.wait_for_mail_to(person)
    assert "send_invoice" in text_body(message) and "ACME" in text_body(message)
    assert requests.post(link_after(message, "Approve:"), data={"text": ""}, timeout=10).status_code == 200

    assert official.result(agent) == "invoiced ACME 120"


@pytest.mark.parametrize(
    ("comment", "denial"),
    [
        ("Wrong customer.", "User denied send_invoice with message: Wrong customer."),
        # A rejection without words still reaches it as a string, not as None it cannot read.
        ("", "User denied send_invoice with message: "),
    ],
    ids=["with-comment", "without-comment"],
)
def test_its_decorator_returns_the_denial_when_rejected_by_link(
    official: OfficialAgent, mail_sink: MailSink, comment: str, denial: str
) -> None:
    person = unique_address("official-rejecter")
    agent = official.start(AGENT, person, "approval")

    message = mail_sink.wait_for_mail_to(person)
    decided = requests.post(link_after(message, "Reject:"), data={"text": comment}, timeout=10)
    assert decided.status_code == 200

    assert official.result(agent) == denial


def test_its_human_as_tool_gets_the_emailed_reply(
    official: OfficialAgent, service: RunningService, mail_sink: MailSink
) -> None:
    person = unique_address("official-answerer")
    agent = official.start(AGENT, person, "question")

    question = mail_sink.wait_for_mail_to(person)
    assert "Which plan should ACME get?" in text_body(question)
    send_email(
        service.smtp_port,
        mail_from=person,
        to=str(question["Reply-To"]),
        body=(
            "The yearly one, with the discount.\n\n"
            "On Mon, Nov 30, 2026 at 9:00 AM signoff <signoff@example.com> wrote:\n"
            "> Which plan should ACME get?\n"
        ),
        headers=reply_headers(question),
    )

    assert official.result(agent) == "The yearly one, with the discount."


def test_its_create_get_respond_and_escalate_calls(official: OfficialAgent, mail_sink: MailSink) -> None:
    person, boss = unique_address("official-person"), unique_address("official-boss")

    seen = official.run(API_CALLS, person, boss)

    assert isinstance(seen, dict)
    created = seen["created_call"]
    assert created["call_id"] == "official-call" and created["run_id"] == "official-calls"
    assert created["spec"]["state"] == {"step": 2}
    assert created["spec"]["reject_options"][0]["name"] == "later"
    assert created["status"]["approved"] is None and created["status"]["requested_at"]
    assert seen["got_call"]["spec"] == created["spec"]
    assert seen["escalated_call"]["status"]["approved"] is None
    responded = seen["responded_call"]["status"]
    assert responded["approved"] is False and responded["comment"] == "Not this quarter"
    assert responded["reject_option_name"] == "later" and responded["responded_at"]

    assert seen["created_contact"]["spec"]["state"] == {"thread": "t-1"}
    assert seen["escalated_contact"]["status"]["response"] is None
    assert seen["responded_contact"]["status"]["response"] == "Ten thousand"
    assert seen["got_contact"]["status"]["response"] == "Ten thousand"
    assert seen["got_contact"]["spec"]["state"] == {"thread": "t-1"}

    assert seen["async_call"]["status"]["approved"] is True
    assert seen["async_call"]["status"]["comment"] == "go"

    follow_ups = [text_body(mail_sink.wait_for_mail_to(boss, count=count)) for count in (1, 2)]
    assert any("Please decide this one." in body and "archive_project" in body for body in follow_ups)
    assert any("Anyone?" in body and "What is the budget?" in body for body in follow_ups)


def test_its_errors_arrive_as_its_own_exception_with_our_json_detail(official: OfficialAgent) -> None:
    outcomes = official.run(ERRORS)

    assert isinstance(outcomes, dict)
    unknown_key, unknown_call = outcomes["unknown_key"], outcomes["unknown_call"]
    assert unknown_key["type"] == "HumanLayerException"
    assert "401" in unknown_key["message"] and "unauthorized" in unknown_key["message"]
    assert unknown_call["type"] == "HumanLayerException"
    assert "404" in unknown_call["message"] and "not_found" in unknown_call["message"]


def test_every_field_of_its_wire_models_has_the_same_name_in_ours(official_venv: Path) -> None:
    finished = run_python(official_venv, MODEL_FIELDS)
    assert finished.returncode == 0, finished.stderr
    official_fields = json.loads(finished.stdout)

    assert "FunctionCall" in official_fields and "Escalation" in official_fields
    for name, fields in official_fields.items():
        ours = getattr(models, name, None)
        assert ours is not None, f"signoff.models has no {name}"
        missing = set(fields) - set(ours.model_fields)
        assert not missing, f"signoff.models.{name} lacks {sorted(missing)}"
