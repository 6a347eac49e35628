"""The operator's side and hardening.

API keys can expire and be made ask-only; a request can be withdrawn.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from signoff_service.store.types import TZDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", TZDateTime(), nullable=True))
        batch_op.add_column(sa.Column("can_decide", sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("human_requests", schema=None) as batch_op:
        batch_op.drop_column("withdrawn")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("can_decide")
        batch_op.drop_column("expires_at")
