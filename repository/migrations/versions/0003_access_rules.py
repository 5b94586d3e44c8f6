"""access rules: per-collection defaults, per-item overrides, reading rooms

Existing collections get an open rule, so that what was public before stays public.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import repository.models
from repository.models import utcnow

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reading_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("networks", sa.Text(), nullable=False),
        sa.Column("created_at", repository.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_rooms")),
        sa.UniqueConstraint("name", name=op.f("uq_reading_rooms_name")),
    )
    op.create_table(
        "access_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column(
            "metadata_level",
            sa.Enum(
                "open",
                "readers",
                "groups",
                "onsite",
                "staff",
                name="accesslevel",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "view_level",
            sa.Enum(
                "open",
                "readers",
                "groups",
                "onsite",
                "staff",
                name="accesslevel",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "download_level",
            sa.Enum(
                "open",
                "readers",
                "groups",
                "onsite",
                "staff",
                name="accesslevel",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("embargo_until", sa.Date(), nullable=True),
        sa.Column("watermark", sa.Boolean(), nullable=False),
        sa.Column("updated_at", repository.models.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(collection_id IS NULL) <> (item_id IS NULL)", name=op.f("ck_access_rules_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_access_rules_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_access_rules_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_rules")),
        sa.UniqueConstraint("collection_id", name=op.f("uq_access_rules_collection_id")),
        sa.UniqueConstraint("item_id", name=op.f("uq_access_rules_item_id")),
    )
    op.create_table(
        "access_rule_groups",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_access_rule_groups_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["access_rules.id"],
            name=op.f("fk_access_rule_groups_rule_id_access_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "group_id", name=op.f("pk_access_rule_groups")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_rule_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_items_effective_rule_id"), ["effective_rule_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_items_effective_rule_id_access_rules"),
            "access_rules",
            ["effective_rule_id"],
            ["id"],
            ondelete="SET NULL",
        )

    _open_existing_collections()


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_items_effective_rule_id_access_rules"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_items_effective_rule_id"))
        batch_op.drop_column("effective_rule_id")

    op.drop_table("access_rule_groups")
    op.drop_table("access_rules")
    op.drop_table("reading_rooms")


def _open_existing_collections() -> None:
    connection = op.get_bind()
    collections = connection.execute(sa.text("SELECT id FROM collections")).scalars().all()
    for collection_id in collections:
        connection.execute(
            sa.text(
                "INSERT INTO access_rules (collection_id, metadata_level, view_level,"
                " download_level, watermark, updated_at)"
                " VALUES (:c, 'open', 'open', 'open', :f, :now)"
            ),
            {"c": collection_id, "f": False, "now": utcnow().replace(tzinfo=None)},
        )
    connection.execute(
        sa.text(
            "UPDATE items SET effective_rule_id = (SELECT r.id FROM access_rules r"
            " WHERE r.collection_id = items.collection_id)"
        )
    )
