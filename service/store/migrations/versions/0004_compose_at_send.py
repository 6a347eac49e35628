"""Emails composed when they are sent.

An outbox row written by the API names its request and recipient and has no body until the
worker composes it, so a create does not pay for building the message.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    uncomposed = sa.text("SELECT count(*) FROM outbox_messages WHERE body IS NULL")
    waiting = op.get_bind().execute(uncomposed).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} email(s) are not composed yet: let a worker deliver them first")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.LargeBinary(), nullable=False)
