"""supplier register needs (issue #12): needs of buyers (hand-entered or from eForms notices)
with their codes and required certifications, the confidential tier of profiles indexed for
matching (certifications, lead time, clearance rank), and buyers' requests for details

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# as verdikart.register.needs.clearance_rank (kept here so the migration never changes)
_RANKS = {
    "BEGRENSET": 1,
    "RESTRICTED": 1,
    "KONFIDENSIELT": 2,
    "CONFIDENTIAL": 2,
    "HEMMELIG": 3,
    "SECRET": 3,
    "STRENGT HEMMELIG": 4,
    "TOP SECRET": 4,
}


def _rank(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.upper().replace("NATO ", "").split())
    return _RANKS.get(text)


def upgrade() -> None:
    op.create_table(
        "rg_need",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_org_id", sa.String(length=32), nullable=True),
        sa.Column("buyer_name", sa.String(length=500), nullable=True),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("cpv_main", sa.String(length=8), nullable=True),
        sa.Column("nuts", sa.JSON(), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("required_certifications", sa.JSON(), nullable=False),
        sa.Column("clearance_level", sa.String(length=20), nullable=True),
        sa.Column("max_lead_time_weeks", sa.Integer(), nullable=True),
        sa.Column("lots", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("notice_id", sa.String(length=100), nullable=True),
        sa.Column("notice_type", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["ex_user.id"]),
        sa.ForeignKeyConstraint(["owner_org_id"], ["ex_organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rg_need_notice", "rg_need", ["source", "notice_id"])
    op.create_index(op.f("ix_rg_need_owner_org_id"), "rg_need", ["owner_org_id"])
    op.create_table(
        "rg_need_code",
        sa.Column("need_id", sa.String(length=32), nullable=False),
        sa.Column("scheme", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("main", sa.Boolean(), nullable=False),
        sa.Column("prefix", sa.String(length=2), nullable=False),
        sa.Column("prefix_hi", sa.String(length=12), nullable=False),
        sa.Column("sig_len", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["rg_need.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("need_id", "scheme", "code"),
    )
    op.create_table(
        "rg_need_cert",
        sa.Column("need_id", sa.String(length=32), nullable=False),
        sa.Column("standard", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["rg_need.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("need_id", "standard"),
    )
    op.create_table(
        "rg_profile_cert",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("standard", sa.String(length=20), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["rg_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("profile_id", "standard"),
    )
    op.create_table(
        "rg_profile_private",
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("lead_time_weeks", sa.Integer(), nullable=True),
        sa.Column("clearance_rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["profile_id"], ["rg_profile.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("profile_id"),
    )
    op.create_table(
        "rg_detail_request",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("profile_id", sa.String(length=32), nullable=False),
        sa.Column("requester_org_id", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["rg_profile.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by"], ["ex_user.id"]),
        sa.ForeignKeyConstraint(["requester_org_id"], ["ex_organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("profile_id", "requester_org_id"),
    )
    op.create_index(
        op.f("ix_rg_detail_request_requester_org_id"), "rg_detail_request", ["requester_org_id"]
    )
    _backfill()


def _backfill() -> None:
    """Index the details of profiles written before this revision."""
    bind = op.get_bind()
    profile = sa.table("rg_profile", sa.column("id", sa.String), sa.column("details", sa.JSON))
    cert = sa.table(
        "rg_profile_cert",
        sa.column("profile_id", sa.String),
        sa.column("standard", sa.String),
        sa.column("valid_until", sa.Date),
    )
    private = sa.table(
        "rg_profile_private",
        sa.column("profile_id", sa.String),
        sa.column("lead_time_weeks", sa.Integer),
        sa.column("clearance_rank", sa.Integer),
    )
    for pid, details in bind.execute(sa.select(profile.c.id, profile.c.details)).all():
        details = details if isinstance(details, dict) else {}
        until: dict[str, date] = {}
        for item in details.get("certifications") or []:
            try:
                day = date.fromisoformat(str(item["valid_until"]))
                standard = str(item["standard"])
            except (KeyError, TypeError, ValueError):
                continue
            until[standard] = max(day, until.get(standard, day))
        for standard, day in until.items():
            bind.execute(sa.insert(cert).values(profile_id=pid, standard=standard, valid_until=day))
        lead = details.get("lead_time_weeks")
        bind.execute(
            sa.insert(private).values(
                profile_id=pid,
                lead_time_weeks=lead if isinstance(lead, int) else None,
                clearance_rank=_rank(details.get("security_clearance")),
            )
        )


def downgrade() -> None:
    op.drop_table("rg_detail_request")
    op.drop_table("rg_profile_private")
    op.drop_table("rg_profile_cert")
    op.drop_table("rg_need_cert")
    op.drop_table("rg_need_code")
    op.drop_table("rg_need")
