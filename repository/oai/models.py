"""What the OAI-PMH provider has ever exposed: one row per item the public could see, kept
as a tombstone once it cannot, each with the datestamp of its last public change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from repository.models import Base, UTCDateTime, intpk


class OAIRecord(Base):
    """An item as harvesters know it. ``seq`` grows with every change (the order of lists and
    the position in resumption tokens); ``fingerprint`` is a hash of the public view."""

    __tablename__ = "oai_records"

    id: Mapped[intpk]
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), unique=True)
    handle: Mapped[str] = mapped_column(String(32), unique=True)
    set_spec: Mapped[str] = mapped_column(String(1024), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    datestamp: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    deleted: Mapped[bool] = mapped_column(default=False)


class OAIState(Base):
    """The provider's one row: the last change number and datestamp handed out. Updating it
    first serializes the writers, so that change numbers are committed in order."""

    __tablename__ = "oai_state"

    id: Mapped[intpk]
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_datestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
