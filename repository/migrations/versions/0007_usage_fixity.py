"""usage statistics and fixity audits: usage events, monthly sums, fixity runs and problems

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import repository.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USAGE_KIND = sa.Enum(
    "view", "page", "download", "search", name="usagekind", native_enum=False, length=32
)


def upgrade() -> None:
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", USAGE_KIND, nullable=False),
        sa.Column("occurred_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("last_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("query", sa.String(length=200), nullable=True),
        sa.Column("visitor_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
    )
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_usage_events_month_kind_item", ["month", "kind", "item_id"], unique=False
        )
        batch_op.create_index(
            "ix_usage_events_visitor_last", ["visitor_key", "last_at"], unique=False
        )

    op.create_table(
        "usage_monthly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", USAGE_KIND, nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("query", sa.String(length=200), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_monthly")),
    )
    with op.batch_alter_table("usage_monthly", schema=None) as batch_op:
        batch_op.create_index("ix_usage_monthly_month_kind", ["month", "kind"], unique=False)

    op.create_table(
        "fixity_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running", "done", "abandoned", name="runstate", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("started_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", repository.models.UTCDateTime(), nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("files_checked", sa.Integer(), nullable=False),
        sa.Column("bytes_checked", sa.BigInteger(), nullable=False),
        sa.Column("objects_listed", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixity_runs")),
    )

    op.create_table(
        "fixity_problems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=1024), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "missing",
                "changed",
                "unreadable",
                "unreferenced",
                name="problemkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("expected_size", sa.BigInteger(), nullable=True),
        sa.Column("found_size", sa.BigInteger(), nullable=True),
        sa.Column("expected_sha256", sa.String(length=64), nullable=True),
        sa.Column("found_sha256", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("detected_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", repository.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_fixity_problems_file_id_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["fixity_runs.id"],
            name=op.f("fk_fixity_problems_run_id_fixity_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fixity_problems")),
    )
    with op.batch_alter_table("fixity_problems", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fixity_problems_file_id"), ["file_id"], unique=False
        )
        batch_op.create_index(
            "ix_fixity_problems_key_kind", ["storage_key", "kind"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fixity_problems_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fixity_problems", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fixity_problems_run_id"))
        batch_op.drop_index("ix_fixity_problems_key_kind")
        batch_op.drop_index(batch_op.f("ix_fixity_problems_file_id"))

    op.drop_table("fixity_problems")
    op.drop_table("fixity_runs")
    with op.batch_alter_table("usage_monthly", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_monthly_month_kind")

    op.drop_table("usage_monthly")
    with op.batch_alter_table("usage_events", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_events_visitor_last")
        batch_op.drop_index("ix_usage_events_month_kind_item")

    op.drop_table("usage_events")
