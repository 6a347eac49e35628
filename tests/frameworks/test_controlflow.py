"""ControlFlow: a signoff-gated function and `human_as_tool` as ControlFlow tools.

ControlFlow is not in the test extra (see examples/README.md); these tests run where it is
installed. The agent is examples/controlflow_tools.py, its model the scripted LangChain chat
model. ControlFlow cannot run offline as it comes: every turn counts tokens with tiktoken, whose
encoding file it downloads on first use, so the tests swap that counter for an estimate;
nothing else is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from types import ModuleType

import pytest

from framework_testing import (
    click,
    in_background,
    load_example,
    reply,
    require_optional_framework,
    wait_for_mail_about,
)
from scripted_chat import CallTool, Script
from signoff_testing import WAIT_SECONDS, MailSink, RunningService, text_body, unique_address

require_optional_framework(
    "controlflow",
    "controlflow",
    "it takes about 85 s and 450 MB to install (150 packages, Prefect among them) and needs the "
    "network at run time (tiktoken downloads its encoding)",
)

RELEASE = {"version": "2.4.0", "notes": "Faster start-up. `widgets.legacy` is removed."}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """examples/controlflow_tools.py, with Prefect's files in a temporary home and nothing sent out."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect")))
        patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        # Prefect's local server migrates a new home's database on its first start; on two cores
        # that can pass its default 20 s limit.
        patch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
        patch.setenv("DO_NOT_TRACK", "1")
        from controlflow.events import message_compiler

        patch.setattr(message_compiler, "count_tokens", lambda message: len(message.model_dump_json()) // 4)
        yield load_example("controlflow_tools")


def release_script() -> Script:
    return Script(
        [
            CallTool("publish_release", RELEASE),
            # ControlFlow ends the run when its task is marked done; no final answer follows.
            CallTool("mark_task_*_successful", {"result": "Outcome: see the tool result"}),
        ]
    )


def run_release(example: ModuleType, manager: str, script: Script) -> Future:
    from scripted_langchain import ScriptedChatModel

    return in_background(example.main, manager, ScriptedChatModel(script=script))


def test_release_is_published_once_approved(
    example: ModuleType, service: RunningService, mail_sink: MailSink, signoff_env: None
) -> None:
    manager = unique_address("release")
    script = release_script()
    run = run_release(example, manager, script)

    approval = wait_for_mail_about(mail_sink, manager, "publish_release", run)
    assert "2.4.0" in text_body(approval)
    click(approval, "Approve:")

    assert run.result(timeout=WAIT_SECONDS) == "Outcome: see the tool result"
    assert "widgets 2.4.0 published" in script.tool_results
    offered = script.offered_tools["publish_release"]
    assert offered["description"].startswith("Publish a release of the widgets package")
    assert offered["parameters"]["required"] == ["version", "notes"]


def test_rejection_by_reply_reaches_the_agent(
    example: ModuleType, service: RunningService, mail_sink: MailSink, signoff_env: None
) -> None:
    manager = unique_address("release")
    script = release_script()
    run = run_release(example, manager, script)

    reply(
        service,
        manager,
        wait_for_mail_about(mail_sink, manager, "publish_release", run),
        "Not before the docs ship.",
    )

    run.result(timeout=WAIT_SECONDS)
    assert "User denied publish_release with message: Not before the docs ship." in script.tool_results
