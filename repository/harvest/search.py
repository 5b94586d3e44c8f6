"""Finding harvested partner records: every query word, folded like the main search
("nguyen du" finds "Nguyễn Du"), must begin a word of the record's description.

Plain SQL over a folded column, on SQLite and PostgreSQL alike: partner records are few
beside the library's own pages, carry no page text and need no access filter (they are
public where they come from), so they stay out of the main index and its facets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from repository.harvest.models import Partner, PartnerRecord
from repository.search.analysis import fold_words

MAX_WORDS = 8
_FIELD = re.compile(r"\b\w+:")
_EXCLUDED = re.compile(r"(?:^|\s)-\S+")


@dataclass(frozen=True)
class PartnerHit:
    partner: str
    title: str
    creators: tuple[str, ...]
    date: str
    link: str


@dataclass(frozen=True)
class PartnerResults:
    total: int
    hits: tuple[PartnerHit, ...]


def query_words(query: str) -> list[str]:
    """The folded words to look for; field names and excluded words are left out."""
    return fold_words(_FIELD.sub(" ", _EXCLUDED.sub(" ", query)))[:MAX_WORDS]


def search_partner_records(session: Session, query: str, limit: int = 10) -> PartnerResults:
    """The enabled partners' live records matching every word of ``query``."""
    words = query_words(query)
    if not words:
        return PartnerResults(0, ())
    condition = and_(PartnerRecord.deleted.is_(False), Partner.enabled.is_(True),
                     *(PartnerRecord.search_text.like(f"% {_escape(word)}%", escape="\\")
                       for word in words))
    joined = select(PartnerRecord, Partner.name).join(Partner).where(condition)
    total = session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    rows = session.execute(joined.order_by(Partner.name, PartnerRecord.title,
                                           PartnerRecord.id).limit(limit))
    return PartnerResults(total, tuple(_hit(record, name) for record, name in rows))


def _hit(record: PartnerRecord, partner_name: str) -> PartnerHit:
    return PartnerHit(partner=partner_name, title=record.title,
                      creators=tuple(record.dc.get("creator", [])),
                      date=(record.dc.get("date") or [""])[0], link=record.link)


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
