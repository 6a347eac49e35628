"""HumanLayer's documented ways of routing requests, run against signoff with Slack and Discord.

HumanLayer's docs ("Contact Channels", "Human as Tool", and the decorator section that
customizes routing) build channels and tools in a handful of shapes: channels made of a
`SlackContactChannel` or a `DiscordContactChannel` with a context, a `HumanLayer()` that
takes its key from the environment (or `api_token=`), one with `contact_channel=`, a
decorator with no channel (the project's default), one with a channel passed positionally,
and `human_as_tool` with and without a channel. Each test below is one of those shapes,
written out in our own words with signoff's import, run against `signoff serve` with the
stand-ins of Slack's and Discord's APIs; a person then answers in Slack or Discord as they
would there. The model-facing names the docs promise are checked too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
import requests
from discord_standin import DiscordStandIn, serving_discord
from discord_testing import BOT_TOKEN, interact
from discord_testing import click as discord_click
from discord_testing import posted_to as discord_post
from discord_testing import service_env as discord_env
from discord_testing import submit as discord_submit
from slack_standin import SlackStandIn, serve_slack_standin
from slack_testing import (
    SERVICE_TOKEN,
    interaction_body,
    send_event,
    send_interaction,
    thread_reply,
    unique_channel,
)
from slack_testing import click as slack_click
from slack_testing import posted_to as slack_post
from slack_testing import service_env as slack_env

from signoff import ContactChannel, DiscordContactChannel, HumanLayer, SlackContactChannel

from signoff_testing import WAIT_SECONDS, MailSink, RunningService

# One service (and stand-in) for the module, on one worker, instead of one per worker.
pytestmark = pytest.mark.xdist_group("docs-chat-service")


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    yield from serve_slack_standin({SERVICE_TOKEN})


@pytest.fixture(scope="module")
def discord() -> Iterator[DiscordStandIn]:
    yield from serving_discord(BOT_TOKEN)


@pytest.fixture(scope="module")
def chat_service(
    module_database_url: str,
    mail_sink: MailSink,
    slack: SlackStandIn,
    discord: DiscordStandIn,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningService]:
    running = RunningService.configure(module_database_url, mail_sink, tmp_path_factory.mktemp("docs"))
    running.env.update({**slack_env(slack), **discord_env(discord)})
    running.start()
    yield running
    running.stop()


@pytest.fixture
def project_default(
    chat_service: RunningService, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A new project whose default channel is a Slack channel; its key is in the environment,
    where `HumanLayer()` finds it, as the docs' examples expect."""
    project = f"docs-{request.node.name}"
    key = chat_service.write_key(project)
    default = unique_channel()
    stored = requests.put(
        f"{chat_service.api_url}/project/default_channel",
        json={"slack": {"channel_or_user_id": default}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT_SECONDS,
    )
    assert stored.status_code == 200, stored.text
    monkeypatch.setenv("HUMANLAYER_API_KEY", key)
    monkeypatch.setenv("HUMANLAYER_API_BASE", chat_service.api_url)
    return default


@pytest.fixture
def agent() -> Iterator[Callable[[Callable[[], Any]], Future]]:
    """Runs the agent's side (a decorated call, a tool) in the background, as an agent would."""
    pool = ThreadPoolExecutor(max_workers=4)
    yield pool.submit
    pool.shutdown(wait=False, cancel_futures=True)


def approve_in_slack(service: RunningService, slack: SlackStandIn, channel: str) -> None:
    posted = slack_post(service, slack, channel)
    assert send_interaction(service, interaction_body(slack_click(posted, "approve"))).status_code == 200


def answer_in_slack_thread(service: RunningService, slack: SlackStandIn, channel: str, text: str) -> None:
    posted = slack_post(service, slack, channel)
    assert send_event(service, thread_reply(posted, text)).status_code == 200


def approve_in_discord(service: RunningService, discord: DiscordStandIn, channel_id: str) -> None:
    message = discord_post(service, discord, channel_id)
    assert interact(service, discord_click(message, "Approve")).json()["type"] == 7


def answer_in_discord(service: RunningService, discord: DiscordStandIn, channel_id: str, text: str) -> None:
    message = discord_post(service, discord, channel_id)
    opened = interact(service, discord_click(message, "Answer")).json()
    assert opened["type"] == 9
    assert interact(service, discord_submit(message, opened["data"], text)).json()["type"] == 7


def done(future: Future) -> Any:
    return future.result(timeout=WAIT_SECONDS)


# "Contact Channels": a default, one per instance, one per function.


def test_a_decorator_without_a_channel_uses_the_projects_default(
    chat_service: RunningService, slack: SlackStandIn, project_default: str, agent: Any
) -> None:
    hl_default = HumanLayer()

    @hl_default.require_approval()  # the project's default channel
    def send_invoice(customer: str, amount: int) -> str:
        """Send the customer an invoice"""
        return f"invoiced {customer} {amount}"

    running = agent(lambda: send_invoice("ACME", 1200))
    approve_in_slack(chat_service, slack, project_default)
    assert done(running) == "invoiced ACME 1200"


def test_an_instances_channel_is_used_by_its_decorators(
    chat_service: RunningService, slack: SlackStandIn, project_default: str, agent: Any
) -> None:
    finance_dm = unique_channel()
    dm_finance = ContactChannel(
        slack=SlackContactChannel(
            channel_or_user_id=finance_dm,
            context_about_channel_or_user="a DM with the head of finance",
        )
    )
    hl_finance = HumanLayer(contact_channel=dm_finance)

    @hl_finance.require_approval()  # the instance's channel
    def refund_order(order_id: str, reason: str) -> str:
        """Refund an order"""
        return f"refunded {order_id}"

    running = agent(lambda: refund_order("A-17", reason="damaged"))
    approve_in_slack(chat_service, slack, finance_dm)
    assert done(running) == "refunded A-17"
    assert slack.calls_to("chat.postMessage", lambda call: call.args["channel"] == project_default) == []


def test_a_channel_given_to_the_decorator_wins_over_the_default(
    chat_service: RunningService, discord: DiscordStandIn, project_default: str, agent: Any
) -> None:
    ops_channel = discord.new_channel()
    channel_ops = ContactChannel(
        discord=DiscordContactChannel(
            channel_or_user_id=ops_channel,
            context_about_channel_or_user="a channel with the database operations team",
        )
    )
    hl_default = HumanLayer()

    @hl_default.require_approval(channel_ops)  # the function's own channel
    def truncate_table(table_name: str) -> str:
        """Empty the given table"""
        return f"truncated {table_name}"

    running = agent(lambda: truncate_table("sessions"))
    approve_in_discord(chat_service, discord, ops_channel)
    assert done(running) == "truncated sessions"


def test_human_as_tool_follows_the_same_three_levels(
    chat_service: RunningService,
    slack: SlackStandIn,
    discord: DiscordStandIn,
    project_default: str,
    agent: Any,
) -> None:
    finance_dm, ops_channel = unique_channel(), discord.new_channel()
    dm_finance = ContactChannel(
        slack=SlackContactChannel(
            channel_or_user_id=finance_dm, context_about_channel_or_user="a DM with the head of finance"
        )
    )
    channel_ops = ContactChannel(
        discord=DiscordContactChannel(
            channel_or_user_id=ops_channel,
            context_about_channel_or_user="a channel with the database operations team",
        )
    )
    hl_default, hl_finance = HumanLayer(), HumanLayer(contact_channel=dm_finance)
    tools = [
        hl_default.human_as_tool(),
        hl_finance.human_as_tool(),
        hl_default.human_as_tool(channel_ops),
    ]
    assert [tool.__name__ for tool in tools[1:]] == [
        "contact_human_in_a_dm_with_the_head_of_finance",
        "contact_human_in_a_channel_with_the_database_operations_team",
    ]

    asked = [agent(lambda tool=tool: tool("Which quarter does this belong to?")) for tool in tools]
    answer_in_slack_thread(chat_service, slack, project_default, "Q3")
    answer_in_slack_thread(chat_service, slack, finance_dm, "Q4, it shipped late")
    answer_in_discord(chat_service, discord, ops_channel, "Q3 for the ops budget")
    assert [done(question) for question in asked] == ["Q3", "Q4, it shipped late", "Q3 for the ops budget"]


# "Human as Tool": tools for several people, handed to whatever runs the model.


class ModelClient:
    """The docs' examples hand a model client to a made-up task runner; it is not called here."""

    def __init__(self, model: str) -> None:
        self.model = model


def run_llm_task(prompt: str, tools: list[Callable[..., str]], llm: ModelClient) -> dict[str, str]:
    """What the docs leave to "whatever framework you want": here, a model that asks every tool."""
    return {tool.__name__: tool(f"{prompt} What do you think?") for tool in tools}


def test_tools_for_several_people_are_named_after_each_and_answered_by_each(
    chat_service: RunningService, slack: SlackStandIn, project_default: str, agent: Any
) -> None:
    support_dm, cto_dm = unique_channel(), unique_channel()
    hl = HumanLayer()
    head_of_support_dm = ContactChannel(
        slack=SlackContactChannel(
            channel_or_user_id=support_dm, context_about_channel_or_user="a DM with the head of support"
        )
    )
    cto_direct_message = ContactChannel(
        slack=SlackContactChannel(
            channel_or_user_id=cto_dm, context_about_channel_or_user="a DM with the CTO"
        )
    )

    running = agent(
        lambda: run_llm_task(
            prompt="Pick next quarter's top support goal and run it past the CTO.",
            tools=[hl.human_as_tool(head_of_support_dm), hl.human_as_tool(cto_direct_message)],
            llm=ModelClient(model="any-model"),
        )
    )
    answer_in_slack_thread(chat_service, slack, support_dm, "First-reply time under an hour")
    answer_in_slack_thread(chat_service, slack, cto_dm, "Agreed")
    assert done(running) == {
        "contact_human_in_a_dm_with_the_head_of_support": "First-reply time under an hour",
        "contact_human_in_a_dm_with_the_cto": "Agreed",
    }


# The decorator section: a key passed as api_token, and routing one function elsewhere.


def test_api_token_and_a_positional_channel_on_the_decorator(
    chat_service: RunningService,
    slack: SlackStandIn,
    project_default: str,
    agent: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sales_dm = unique_channel()
    key = os.environ["HUMANLAYER_API_KEY"]
    monkeypatch.delenv("HUMANLAYER_API_KEY")
    hl = HumanLayer(api_token=key)
    head_of_sales = ContactChannel(
        slack=SlackContactChannel(
            channel_or_user_id=sales_dm, context_about_channel_or_user="a DM with the head of sales"
        )
    )

    @hl.require_approval(head_of_sales)
    def send_email_to_customer(email: str, subject: str, body: str) -> str:
        """send an email to the customer"""
        return f"Successfully sent email '{subject}' to {email}"

    running = agent(lambda: send_email_to_customer("buyer@example.com", "Renewal", "Time to renew."))
    approve_in_slack(chat_service, slack, sales_dm)
    assert done(running) == "Successfully sent email 'Renewal' to buyer@example.com"
    assert hl.human_as_tool(head_of_sales).__name__ == "contact_human_in_a_dm_with_the_head_of_sales"
