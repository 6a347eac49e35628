"""A ControlFlow task that publishes a release only once the release manager approves it.

ControlFlow takes plain Python functions as tools, so the signoff-gated `publish_release`
and the question tool from `human_as_tool()` are handed to the agent as they are.

    python examples/controlflow_tools.py release-manager@example.com

Needs `pip install controlflow` (see examples/README.md for what it brings and needs),
OPENAI_API_KEY, and signoff's SIGNOFF_API_KEY / SIGNOFF_API_BASE. Pass any LangChain chat
model to `main(model=...)`.
"""

from __future__ import annotations

import sys
from typing import Any

import controlflow as cf
from langchain_core.language_models import BaseChatModel

from signoff import ContactChannel, EmailContactChannel, HumanLayer

TASK = (
    "Publish version 2.4.0 of the widgets package. Its changes: faster start-up, and the "
    "deprecated `widgets.legacy` module is gone. Write short release notes first."
)


def build_tools(hl: HumanLayer) -> list[Any]:
    @hl.require_approval()
    def publish_release(version: str, notes: str) -> str:
        """Publish a release of the widgets package to the package index, with its release notes."""
        return f"widgets {version} published"

    return [publish_release, hl.human_as_tool()]


def main(release_manager_email: str, model: BaseChatModel | None = None) -> str:
    hl = HumanLayer(
        agent_name="release-bot",
        contact_channel=ContactChannel(email=EmailContactChannel(address=release_manager_email)),
    )
    # Without a model, ControlFlow uses its default (CONTROLFLOW_LLM_MODEL, OpenAI unless set).
    agent = cf.Agent(name="release-bot", tools=build_tools(hl), model=model)
    result = cf.run(TASK, agents=[agent], result_type=str)
    print(result)
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "you@example.com")
