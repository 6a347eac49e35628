"""A CrewAI crew whose outreach agent may email customers only with a person's approval.

`send_customer_email` is gated by signoff and wrapped as a CrewAI tool with `crewai.tools.tool`;
the agent can also ask the account owner a question by email.

    python examples/crewai_tools.py account-owner@example.com

Needs `pip install crewai` (heavy: see examples/README.md), OPENAI_API_KEY, and signoff's
SIGNOFF_API_KEY / SIGNOFF_API_BASE. Pass any `crewai.LLM` to `main(llm=...)`.
"""

from __future__ import annotations

import os
import sys

from crewai import LLM, Agent, Crew, Task
from crewai.tools import BaseTool, tool

from signoff import ContactChannel, EmailContactChannel, HumanLayer


def build_tools(hl: HumanLayer) -> list[BaseTool]:
    @hl.require_approval()
    def send_customer_email(to: str, subject: str, body: str) -> str:
        """Send an email to a customer. Use it once per customer, with the whole message in `body`."""
        return f"email to {to} sent"

    return [tool(send_customer_email), tool(hl.human_as_tool())]


def build_crew(hl: HumanLayer, llm: LLM) -> Crew:
    outreach = Agent(
        role="Customer outreach",
        goal="Tell customers about changes that affect them, in a friendly, accurate email.",
        backstory="You write short, plain emails, and you ask the account owner when unsure.",
        tools=build_tools(hl),
        llm=llm,
    )
    announce = Task(
        description=(
            "Our API's v1 endpoints close on March 1. Email ops@customer.example (Initech) to tell "
            "them, and report whether the email went out."
        ),
        expected_output="One sentence: whether the email was sent, and if not, why.",
        agent=outreach,
    )
    return Crew(agents=[outreach], tasks=[announce])


def main(owner_email: str, llm: LLM | None = None) -> str:
    hl = HumanLayer(
        agent_name="customer-outreach",
        contact_channel=ContactChannel(email=EmailContactChannel(address=owner_email)),
    )
    llm = llm or LLM(model=os.getenv("OPENAI_MODEL", "gpt-4o-mini"))
    result = str(build_crew(hl, llm).kickoff())
    print(result)
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "you@example.com")
