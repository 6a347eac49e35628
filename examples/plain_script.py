"""A plain script, no LLM: a data migration that asks a person first, and asks them a question.

It asks for approval of the migration with `fetch_approval`, which blocks until the person
clicks Approve or Reject in the email (or replies to it). If they approve, it asks when to
announce the change and waits for the answer, which they give by replying to the email.

    python examples/plain_script.py dba@example.com

Exit code 0 when approved, 1 when rejected (the person's comment is printed).
Needs SIGNOFF_API_KEY / SIGNOFF_API_BASE (see examples/README.md).
"""

from __future__ import annotations

import sys

from signoff import ContactChannel, EmailContactChannel, FunctionCallSpec, HumanContactSpec, HumanLayer

MIGRATION = {"database": "orders", "migration": "0042_split_address_columns", "estimated_lock_seconds": 40}


def run_migration(database: str, migration: str, estimated_lock_seconds: int) -> str:
    """Stands in for the real work."""
    return f"applied {migration} to {database}"


def main(dba_email: str) -> int:
    hl = HumanLayer(
        agent_name="migrations",
        contact_channel=ContactChannel(email=EmailContactChannel(address=dba_email)),
    )
    decision = hl.fetch_approval(FunctionCallSpec(fn="run_migration", kwargs=MIGRATION)).as_completed()
    if not decision.approved:
        print(f"Not migrating: {decision.comment}")
        return 1
    print(run_migration(**MIGRATION))

    question = HumanContactSpec(
        msg=f"{MIGRATION['migration']} is applied. When should we tell the support team?",
        subject="When to announce the orders migration",
    )
    answer = hl.fetch_human_response(question).as_completed()
    print(f"Announcement: {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "you@example.com"))
