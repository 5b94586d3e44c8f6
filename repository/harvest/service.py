"""Partner repositories: registering them, and harvesting their oai_dc records into the
partner area of search, incrementally. One partner's failure is kept on that partner
(``last_error``) and the others are harvested all the same."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from repository import audit
from repository.db import Database
from repository.errors import N_, Conflict, InvalidInput, NotFound
from repository.harvest.client import HarvestedRecord, OAIClient, Page
from repository.harvest.errors import HarvestError
from repository.harvest.models import Partner, PartnerRecord
from repository.models import User, utcnow
from repository.oai.arguments import SET_SPEC
from repository.oai.dates import DAYS, SECONDS, format_for
from repository.search.analysis import fold_words

SEARCHED = ("title", "creator", "subject", "description", "publisher", "contributor", "date",
            "coverage")
_URL = re.compile(r"^https?://", re.IGNORECASE)


@dataclass(frozen=True)
class PartnerSummary:
    partner: Partner
    records: int


@dataclass
class HarvestOutcome:
    """What one partner's harvest did, or why it failed."""

    partner: str
    added: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def add_partner(session: Session, name: str, base_url: str, set_spec: str | None = None,
                actor: User | None = None) -> Partner:
    """Register a partner's OAI-PMH base URL (http or https), optionally one of its sets."""
    name, base_url, set_spec = name.strip(), base_url.strip(), (set_spec or "").strip() or None
    if not name:
        raise InvalidInput(N_("A partner needs a name"))
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(N_("'%(url)s' is not an http:// or https:// address"), url=base_url)
    if set_spec and not SET_SPEC.fullmatch(set_spec):
        raise InvalidInput(N_("'%(set)s' is not an OAI-PMH set"), set=set_spec)
    if session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
        raise Conflict(N_("A partner named '%(name)s' exists already"), name=name)
    partner = Partner(name=name, base_url=base_url, set_spec=set_spec)
    session.add(partner)
    session.flush()
    audit.record(session, actor, "partner.add", "partner", partner.id,
                 new={"name": name, "base_url": base_url, "set": set_spec})
    return partner


def get_partner(session: Session, reference: str | int) -> Partner:
    """The partner with this id or name."""
    condition = (Partner.id == int(reference) if str(reference).isdigit()
                 else Partner.name == str(reference))
    partner = session.scalar(select(Partner).where(condition))
    if partner is None:
        raise NotFound(N_("No partner named '%(name)s'"), name=str(reference))
    return partner


def set_enabled(session: Session, partner: Partner, enabled: bool,
                actor: User | None = None) -> None:
    """Pause or resume a partner's harvests (its records leave search while paused)."""
    if partner.enabled != enabled:
        audit.record(session, actor, "partner.enabled", "partner", partner.id,
                     old={"enabled": partner.enabled}, new={"enabled": enabled})
        partner.enabled = enabled


def list_partners(session: Session) -> list[PartnerSummary]:
    counts = dict(session.execute(
        select(PartnerRecord.partner_id, func.count(PartnerRecord.id))
        .where(PartnerRecord.deleted.is_(False)).group_by(PartnerRecord.partner_id)).all())
    return [PartnerSummary(partner, counts.get(partner.id, 0))
            for partner in session.scalars(select(Partner).order_by(Partner.name))]


def harvest_all(database: Database, client: OAIClient | None = None,
                only: str | None = None) -> list[HarvestOutcome]:
    """Harvest every enabled partner (or the one named ``only``, enabled or not)."""
    with database.session() as session:
        wanted = [get_partner(session, only)] if only else session.scalars(
            select(Partner).where(Partner.enabled.is_(True)).order_by(Partner.name))
        ids = [partner.id for partner in wanted]
    return [harvest_partner(database, partner_id, client or OAIClient()) for partner_id in ids]


def harvest_partner(database: Database, partner_id: int, client: OAIClient,
                    now: datetime | None = None) -> HarvestOutcome:
    """Pull the partner's records changed since its last complete harvest. Pages are
    committed as they come; the point to continue from moves on only when the list was
    taken to its end, so a failed harvest is simply done again next time."""
    now = now or utcnow()
    with database.session() as session:
        partner = session.get(Partner, partner_id)
        outcome = HarvestOutcome(partner.name)
        source = (partner.base_url, partner.metadata_prefix, partner.set_spec,
                  partner.last_datestamp)
    try:
        newest, granularity = _harvest_pages(database, partner_id, client, source, outcome)
    except HarvestError as exc:
        outcome.error = str(exc)
        newest, granularity = None, None
    with database.session() as session:
        _record_outcome(session.get(Partner, partner_id), outcome, now, newest, granularity)
    return outcome


def _harvest_pages(database: Database, partner_id: int, client: OAIClient, source: tuple,
                   outcome: HarvestOutcome) -> tuple[datetime | None, str]:
    base_url, prefix, set_spec, since = source
    granularity = client.identify(base_url).granularity or DAYS
    if granularity not in (DAYS, SECONDS):
        granularity = DAYS
    newest = since
    start = format_for(since, granularity) if since else None
    for page in client.list_records(base_url, prefix, set_spec, start):
        with database.session() as session:
            apply_page(session, session.get(Partner, partner_id), page, outcome)
        stamps = [r.datestamp for r in page.records if r.datestamp is not None]
        newest = max([*stamps, *([newest] if newest else [])], default=None)
    return newest, granularity


def _record_outcome(partner: Partner, outcome: HarvestOutcome, now: datetime,
                    newest: datetime | None, granularity: str | None) -> None:
    partner.last_harvest_at = now
    partner.last_error = outcome.error
    if outcome.ok:
        partner.last_success_at = now
        partner.last_datestamp = newest
        partner.granularity = granularity or partner.granularity


def apply_page(session: Session, partner: Partner, page: Page, outcome: HarvestOutcome) -> None:
    """Add, update or mark deleted the records of one page."""
    outcome.skipped += page.skipped
    known = _known(session, partner, [record.identifier for record in page.records])
    for record in page.records:
        row = known.get(record.identifier)
        if record.deleted:
            if row is not None and not row.deleted:
                _forget(row, record)
                outcome.deleted += 1
            continue
        if row is None:
            row = known[record.identifier] = PartnerRecord(partner=partner,
                                                           identifier=record.identifier)
            session.add(row)
            outcome.added += 1
        else:
            outcome.updated += 1
        _describe(row, partner, record)


def _known(session: Session, partner: Partner, identifiers: list[str]) -> dict:
    rows = session.scalars(select(PartnerRecord).where(
        PartnerRecord.partner_id == partner.id, PartnerRecord.identifier.in_(identifiers)))
    return {row.identifier: row for row in rows}


def _forget(row: PartnerRecord, record: HarvestedRecord) -> None:
    row.deleted, row.dc, row.search_text = True, {}, ""
    row.datestamp = record.datestamp or row.datestamp
    row.harvested_at = utcnow()


def _describe(row: PartnerRecord, partner: Partner, record: HarvestedRecord) -> None:
    row.deleted = False
    row.datestamp = record.datestamp
    row.dc = record.dc
    row.title = (record.dc.get("title") or [record.identifier])[0]
    row.link = original_link(partner, record)
    row.search_text = searchable(record.dc.get(element, []) for element in SEARCHED)
    row.harvested_at = utcnow()


def original_link(partner: Partner, record: HarvestedRecord) -> str:
    """The record's own page (its first http(s) dc:identifier), else the partner's
    GetRecord answer for it."""
    for value in record.dc.get("identifier", []):
        if _URL.match(value):
            return value[:2048]
    separator = "&" if "?" in partner.base_url else "?"
    return (f"{partner.base_url}{separator}verb=GetRecord&metadataPrefix="
            f"{partner.metadata_prefix}&identifier={quote(record.identifier, safe='')}")[:2048]


def searchable(groups: Iterable[list[str]]) -> str:
    """Folded words (no marks, lowercase, đ→d), space-delimited at both ends."""
    words = [word for values in groups for value in values for word in fold_words(value)]
    return f" {' '.join(words)} " if words else ""
