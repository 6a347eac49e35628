"""Many nodes and server-run workflows.

Outbox leases, webhooks, votes, the audit trail, timeouts and schedules.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signoff_service.store.types import TZDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", TZDateTime(), nullable=False),
        sa.Column("deleted_at", TZDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_project_id"), ["project_id"], unique=False)

    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", TZDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["human_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_events_project_id"), ["project_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_request_events_request_id"), ["request_id"], unique=False)

    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("option_name", sa.String(length=255), nullable=True),
        sa.Column("created_at", TZDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["human_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "voter"),
    )
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_votes_request_id"), ["request_id"], unique=False)

    # Plain ALTERs: no rebuild of the biggest table.
    op.add_column(
        "human_requests", sa.Column("timed_out", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("human_requests", sa.Column("timeout_at", TZDateTime(), nullable=True))
    op.add_column("human_requests", sa.Column("next_step_at", TZDateTime(), nullable=True))
    op.add_column("human_requests", sa.Column("steps_done", sa.Integer(), server_default="0", nullable=False))
    op.create_index(op.f("ix_human_requests_next_step_at"), "human_requests", ["next_step_at"], unique=False)

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="email", nullable=False))
        batch_op.add_column(sa.Column("webhook_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", TZDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_webhook_id"), ["webhook_id"], unique=False)
        batch_op.create_foreign_key("fk_outbox_messages_webhook_id", "webhooks", ["webhook_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_messages_webhook_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_webhook_id"))
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("webhook_id")
        batch_op.drop_column("kind")

    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_human_requests_next_step_at"))
        batch_op.drop_column("steps_done")
        batch_op.drop_column("next_step_at")
        batch_op.drop_column("timeout_at")
        batch_op.drop_column("timed_out")

    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_votes_request_id"))

    op.drop_table("votes")
    with op.batch_alter_table("request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_events_request_id"))
        batch_op.drop_index(batch_op.f("ix_request_events_project_id"))

    op.drop_table("request_events")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_project_id"))

    op.drop_table("webhooks")
