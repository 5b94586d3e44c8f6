"""Partner repositories registered by staff, and the records harvested from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.models import Base, UTCDateTime, intpk, utcnow


class Partner(Base):
    """Another library's OAI-PMH endpoint whose ``metadata_prefix`` records we harvest."""

    __tablename__ = "partners"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(128), unique=True)
    base_url: Mapped[str] = mapped_column(String(1024))
    metadata_prefix: Mapped[str] = mapped_column(String(64), default="oai_dc")
    set_spec: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    granularity: Mapped[str] = mapped_column(String(32), default="")
    last_harvest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest record datestamp seen in a complete harvest: the next one asks from it.
    last_datestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    records: Mapped[list[PartnerRecord]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", passive_deletes=True)


class PartnerRecord(Base):
    """One harvested record: its Dublin Core, a link to the original, and folded words to
    search. A record the partner deleted stays as a tombstone without metadata."""

    __tablename__ = "partner_records"
    __table_args__ = (
        UniqueConstraint("partner_id", "identifier", name="uq_partner_records_identifier"),
    )

    id: Mapped[intpk]
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(512))
    datestamp: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(Text, default="")
    dc: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(2048), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    harvested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship(back_populates="records")
