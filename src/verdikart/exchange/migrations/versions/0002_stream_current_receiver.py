"""side stream: who receives it today (current_receiver, from self-reporting's Mottaker)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ex_stream") as batch:
        batch.add_column(sa.Column("current_receiver", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ex_stream") as batch:
        batch.drop_column("current_receiver")
