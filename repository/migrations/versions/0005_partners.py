"""OAI-PMH records and tombstones, partner repositories and their harvested records

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import repository.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oai_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_datestamp", repository.models.UTCDateTime(), nullable=True),
        sa.Column("synced_at", repository.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oai_state")),
    )
    op.create_table(
        "oai_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("handle", sa.String(length=32), nullable=False),
        sa.Column("set_spec", sa.String(length=1024), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("datestamp", repository.models.UTCDateTime(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_oai_records_item_id_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oai_records")),
        sa.UniqueConstraint("handle", name=op.f("uq_oai_records_handle")),
        sa.UniqueConstraint("item_id", name=op.f("uq_oai_records_item_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_oai_records_seq")),
    )
    with op.batch_alter_table("oai_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oai_records_datestamp"), ["datestamp"], unique=False)
    # The provider's one state row (the sync makes it when missing; here so that two first
    # syncs on PostgreSQL cannot both try to insert it).
    op.bulk_insert(sa.table("oai_state", sa.column("id", sa.Integer()),
                            sa.column("last_seq", sa.BigInteger())), [{"id": 1, "last_seq": 0}])

    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("base_url", sa.String(length=1024), nullable=False),
        sa.Column("metadata_prefix", sa.String(length=64), nullable=False),
        sa.Column("set_spec", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("granularity", sa.String(length=32), nullable=False),
        sa.Column("last_harvest_at", repository.models.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", repository.models.UTCDateTime(), nullable=True),
        sa.Column("last_datestamp", repository.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", repository.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
    )
    op.create_table(
        "partner_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=512), nullable=False),
        sa.Column("datestamp", repository.models.UTCDateTime(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("dc", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=2048), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("harvested_at", repository.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_records_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_records")),
        sa.UniqueConstraint("partner_id", "identifier", name="uq_partner_records_identifier"),
    )


def downgrade() -> None:
    op.drop_table("partner_records")
    op.drop_table("partners")
    with op.batch_alter_table("oai_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oai_records_datestamp"))

    op.drop_table("oai_records")
    op.drop_table("oai_state")
