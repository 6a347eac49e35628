"""Slack and Discord: the messages posted for requests, and the projects' and requests' bot tokens.

A posted message is how an interaction (a button, a modal, a thread reply) finds its
request, and what is edited to show the outcome. The signatures of interactions already
taken are kept for a while, so that a captured one sent again is refused.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signoff_service.store.types import TZDateTime

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "chat_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("human_requests.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel_id", sa.String(64), nullable=False),
        sa.Column("message_ref", sa.String(64), nullable=False),
        sa.Column("posted_at", TZDateTime(), nullable=False),
        sa.UniqueConstraint("kind", "channel_id", "message_ref"),
    )
    op.create_index("ix_chat_posts_request_id", "chat_posts", ["request_id"])
    op.create_table(
        "chat_signatures",
        sa.Column("signature", sa.String(160), primary_key=True),
        sa.Column("seen_at", TZDateTime(), nullable=False),
    )
    op.create_index("ix_chat_signatures_seen_at", "chat_signatures", ["seen_at"])
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_bot_token", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("discord_bot_token", sa.Text(), nullable=True))
    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_bot_token", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.drop_column("slack_bot_token")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("discord_bot_token")
        batch_op.drop_column("slack_bot_token")
    op.drop_index("ix_chat_signatures_seen_at", table_name="chat_signatures")
    op.drop_table("chat_signatures")
    op.drop_index("ix_chat_posts_request_id", table_name="chat_posts")
    op.drop_table("chat_posts")
