"""initial exchange schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 11:13:00.995990
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ex_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.String(length=32), nullable=True),
        sa.Column("actor_org_id", sa.String(length=32), nullable=True),
        sa.Column("owner_org_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ex_audit_actor_org_id"), "ex_audit", ["actor_org_id"], unique=False)
    op.create_index(op.f("ix_ex_audit_at"), "ex_audit", ["at"], unique=False)
    op.create_index(op.f("ix_ex_audit_owner_org_id"), "ex_audit", ["owner_org_id"], unique=False)
    op.create_table(
        "ex_cluster",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "ex_organisation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cluster_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["ex_cluster.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "ex_import_job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["ex_organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_ex_import_job_organisation_id"), "ex_import_job", ["organisation_id"], unique=False
    )
    op.create_table(
        "ex_site",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("nace", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["ex_organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organisation_id", "name"),
    )
    op.create_index(
        op.f("ix_ex_site_organisation_id"), "ex_site", ["organisation_id"], unique=False
    )
    op.create_table(
        "ex_user",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("hub_cluster_id", sa.String(length=32), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_cluster_id"],
            ["ex_cluster.id"],
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["ex_organisation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_ex_user_organisation_id"), "ex_user", ["organisation_id"], unique=False
    )
    op.create_table(
        "ex_need",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("material_class", sa.String(length=40), nullable=False),
        sa.Column("also_classes", sa.JSON(), nullable=False),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("quantity_t_per_year_min", sa.Float(), nullable=True),
        sa.Column("quantity_t_per_year_max", sa.Float(), nullable=True),
        sa.Column("max_distance_km", sa.Float(), nullable=True),
        sa.Column("site_id", sa.String(length=32), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("accepts_hazardous", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["ex_organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["ex_site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ex_need_material_class"), "ex_need", ["material_class"], unique=False)
    op.create_index(
        op.f("ix_ex_need_organisation_id"), "ex_need", ["organisation_id"], unique=False
    )
    op.create_table(
        "ex_stream",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name_public", sa.String(length=200), nullable=False),
        sa.Column("material_class", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quantity_band", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("hazardous", sa.Boolean(), nullable=False),
        sa.Column("ewc_code", sa.String(length=6), nullable=True),
        sa.Column("critical_materials", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("site_id", sa.String(length=32), nullable=True),
        sa.Column("form", sa.String(length=20), nullable=True),
        sa.Column("quantity_t_per_year", sa.Float(), nullable=True),
        sa.Column("energy_gwh_per_year", sa.Float(), nullable=True),
        sa.Column("quantity_uncertainty_pct", sa.Float(), nullable=True),
        sa.Column("availability", sa.String(length=200), nullable=True),
        sa.Column("current_treatment", sa.String(length=30), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["ex_organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["ex_site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ex_stream_created", "ex_stream", ["created_at", "id"], unique=False)
    op.create_index(
        op.f("ix_ex_stream_material_class"), "ex_stream", ["material_class"], unique=False
    )
    op.create_index(
        "ix_ex_stream_owner_created", "ex_stream", ["organisation_id", "created_at"], unique=False
    )
    op.create_table(
        "ex_composition",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=True),
        sa.Column("analysed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["stream_id"], ["ex_stream.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_ex_composition_stream_id"), "ex_composition", ["stream_id"], unique=False
    )
    op.create_table(
        "ex_disclosure",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("stream_id", sa.String(length=32), nullable=False),
        sa.Column("owner_org_id", sa.String(length=32), nullable=False),
        sa.Column("requester_org_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["ex_organisation.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["ex_user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_org_id"],
            ["ex_organisation.id"],
        ),
        sa.ForeignKeyConstraint(["stream_id"], ["ex_stream.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_ex_disclosure_lookup",
        "ex_disclosure",
        ["stream_id", "requester_org_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ex_disclosure_owner_org_id"), "ex_disclosure", ["owner_org_id"], unique=False
    )
    op.create_index(
        op.f("ix_ex_disclosure_requester_org_id"),
        "ex_disclosure",
        ["requester_org_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ex_disclosure_requester_org_id"), table_name="ex_disclosure")
    op.drop_index(op.f("ix_ex_disclosure_owner_org_id"), table_name="ex_disclosure")
    op.drop_index("ix_ex_disclosure_lookup", table_name="ex_disclosure")
    op.drop_table("ex_disclosure")
    op.drop_index(op.f("ix_ex_composition_stream_id"), table_name="ex_composition")
    op.drop_table("ex_composition")
    op.drop_index("ix_ex_stream_owner_created", table_name="ex_stream")
    op.drop_index(op.f("ix_ex_stream_material_class"), table_name="ex_stream")
    op.drop_index("ix_ex_stream_created", table_name="ex_stream")
    op.drop_table("ex_stream")
    op.drop_index(op.f("ix_ex_need_organisation_id"), table_name="ex_need")
    op.drop_index(op.f("ix_ex_need_material_class"), table_name="ex_need")
    op.drop_table("ex_need")
    op.drop_index(op.f("ix_ex_user_organisation_id"), table_name="ex_user")
    op.drop_table("ex_user")
    op.drop_index(op.f("ix_ex_site_organisation_id"), table_name="ex_site")
    op.drop_table("ex_site")
    op.drop_index(op.f("ix_ex_import_job_organisation_id"), table_name="ex_import_job")
    op.drop_table("ex_import_job")
    op.drop_table("ex_organisation")
    op.drop_table("ex_cluster")
    op.drop_index(op.f("ix_ex_audit_owner_org_id"), table_name="ex_audit")
    op.drop_index(op.f("ix_ex_audit_at"), table_name="ex_audit")
    op.drop_index(op.f("ix_ex_audit_actor_org_id"), table_name="ex_audit")
    op.drop_table("ex_audit")
