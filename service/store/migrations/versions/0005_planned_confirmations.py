"""Confirmations of replies composed when they are sent.

Processing a reply writes its confirmation as a planned outbox row naming the reply it
confirms; the worker composes the email from the stored reply and the recorded answer.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirms_inbound_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_outbox_messages_confirms_inbound_id", "inbound_messages", ["confirms_inbound_id"], ["id"]
        )


def downgrade() -> None:
    # An older release would compose a waiting confirmation as the request's own email.
    uncomposed = sa.text(
        "SELECT count(*) FROM outbox_messages WHERE body IS NULL AND confirms_inbound_id IS NOT NULL"
    )
    waiting = op.get_bind().execute(uncomposed).scalar()
    if waiting:
        raise RuntimeError(f"{waiting} confirmation(s) are not composed yet: let a worker deliver them first")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_messages_confirms_inbound_id", type_="foreignkey")
        batch_op.drop_column("confirms_inbound_id")
