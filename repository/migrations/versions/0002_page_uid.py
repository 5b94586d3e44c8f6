"""page uid: a permanent public identifier per page (the IIIF image identifier)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=64), nullable=True))
    pages = sa.table("pages", sa.column("id", sa.Integer), sa.column("uid", sa.String))
    connection = op.get_bind()
    for (page_id,) in connection.execute(sa.select(pages.c.id)).all():
        connection.execute(
            pages.update().where(pages.c.id == page_id).values(uid=str(uuid.uuid4())))
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_pages_uid"), ["uid"])


def downgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_pages_uid"), type_="unique")
        batch_op.drop_column("uid")
