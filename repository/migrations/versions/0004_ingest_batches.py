"""ingest batches and tasks: uploads, their pages, progress and errors

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import repository.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("source_name", sa.String(length=512), nullable=False),
        sa.Column("work_dir", sa.String(length=1024), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "planning",
                "running",
                "done",
                "partial",
                "failed",
                name="batchstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", repository.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", repository.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_ingest_batches_collection_id_collections"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_ingest_batches_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_batches_collection_id"), ["collection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ingest_batches_status"), ["status"], unique=False)

    op.create_table(
        "ingest_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=512), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="taskstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("started_at", repository.models.UTCDateTime(), nullable=True),
        sa.Column("finished_at", repository.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batches.id"],
            name=op.f("fk_ingest_tasks_batch_id_ingest_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_ingest_tasks_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_tasks")),
        sa.UniqueConstraint("batch_id", "item_id", "kind", "sequence", name="uq_ingest_tasks_unit"),
    )
    with op.batch_alter_table("ingest_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_ingest_tasks_batch_state", ["batch_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_ingest_tasks_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingest_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_tasks_item_id"))
        batch_op.drop_index("ix_ingest_tasks_batch_state")

    op.drop_table("ingest_tasks")
    with op.batch_alter_table("ingest_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batches_status"))
        batch_op.drop_index(batch_op.f("ix_ingest_batches_collection_id"))

    op.drop_table("ingest_batches")
