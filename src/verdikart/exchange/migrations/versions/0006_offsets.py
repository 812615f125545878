"""supplier register (issue #12): offset obligations (gjenkjøp), an editable register of
foreign suppliers' obligations with the sectors each may be fulfilled in

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_offset",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("foreign_supplier", sa.String(length=300), nullable=False),
        sa.Column("programme", sa.String(length=300), nullable=False),
        sa.Column("value_nok", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("source_url", sa.String(length=1000), nullable=True),
        sa.Column("source_text", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["ex_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_rg_offset_foreign_supplier"), "rg_offset", ["foreign_supplier"], unique=False
    )
    op.create_table(
        "rg_offset_sector",
        sa.Column("offset_id", sa.String(length=32), nullable=False),
        sa.Column("sector", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["offset_id"], ["rg_offset.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("offset_id", "sector"),
    )
    op.create_index("ix_rg_offset_sector_sector", "rg_offset_sector", ["sector"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_rg_offset_sector_sector", table_name="rg_offset_sector")
    op.drop_table("rg_offset_sector")
    op.drop_index(op.f("ix_rg_offset_foreign_supplier"), table_name="rg_offset")
    op.drop_table("rg_offset")
