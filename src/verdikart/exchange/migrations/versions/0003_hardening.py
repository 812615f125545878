"""hardening (issue #14): the owner's choice to publish analysed components, deactivated users,
sign-in sessions, idempotency records, the import job's temp file

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ex_stream") as batch:
        # streams registered before: not published (their owners never chose to)
        batch.add_column(
            sa.Column("components_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("ex_user") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("ex_import_job") as batch:
        batch.add_column(sa.Column("temp_path", sa.String(length=500), nullable=True))
    op.create_table(
        "ex_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ex_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ex_session_user_id"), "ex_session", ["user_id"], unique=False)
    op.create_table(
        "ex_idempotency",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ex_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "key"),
    )
    op.create_index(
        op.f("ix_ex_idempotency_created_at"), "ex_idempotency", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ex_idempotency_created_at"), table_name="ex_idempotency")
    op.drop_table("ex_idempotency")
    op.drop_index(op.f("ix_ex_session_user_id"), table_name="ex_session")
    op.drop_table("ex_session")
    with op.batch_alter_table("ex_import_job") as batch:
        batch.drop_column("temp_path")
    with op.batch_alter_table("ex_user") as batch:
        batch.drop_column("active")
    with op.batch_alter_table("ex_stream") as batch:
        batch.drop_column("components_public")
