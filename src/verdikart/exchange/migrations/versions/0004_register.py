"""supplier register (issue #12): Enhetsregisteret units and their NACE codes, capability
profiles with public codes, and the buyers each supplier shares its details with

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rg_unit",
        sa.Column("organisation_number", sa.String(length=9), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("organisational_form", sa.String(length=10), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("municipality", sa.String(length=4), nullable=True),
        sa.Column("parent_number", sa.String(length=9), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_date", sa.Date(), nullable=True),
        sa.Column("bankrupt", sa.Boolean(), nullable=False),
        sa.Column("under_liquidation", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("organisation_number"),
    )
    op.create_index(op.f("ix_rg_unit_municipality"), "rg_unit", ["municipality"], unique=False)
    op.create_index(op.f("ix_rg_unit_parent_number"), "rg_unit", ["parent_number"], unique=False)
    op.create_table(
        "rg_unit_nace",
        sa.Column("organisation_number", sa.String(length=9), nullable=False),
        sa.Column("standard", sa.String(length=6), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_number"], ["rg_unit.organisation_number"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("organisation_number", "standard", "position"),
    )
    op.create_index("ix_rg_unit_nace_code", "rg_unit_nace", ["code"], unique=False)
    op.create_table(
        "rg_profile",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("organisation_number", sa.String(length=9), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["ex_organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id"),
    )
    op.create_index(
        op.f("ix_rg_profile_organisation_number"), "rg_profile", ["organisation_number"]
    )
    op.create_table(
        "rg_profile_code",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("scheme", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["rg_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("profile_id", "scheme", "code"),
    )
    op.create_index("ix_rg_profile_code_lookup", "rg_profile_code", ["scheme", "code"])
    op.create_table(
        "rg_profile_share",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("buyer_org_id", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["buyer_org_id"], ["ex_organisation.id"]),
        sa.ForeignKeyConstraint(["granted_by"], ["ex_user.id"]),
        sa.ForeignKeyConstraint(["profile_id"], ["rg_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "buyer_org_id"),
    )
    op.create_index(op.f("ix_rg_profile_share_buyer_org_id"), "rg_profile_share", ["buyer_org_id"])


def downgrade() -> None:
    op.drop_table("rg_profile_share")
    op.drop_table("rg_profile_code")
    op.drop_table("rg_profile")
    op.drop_table("rg_unit_nace")
    op.drop_table("rg_unit")
