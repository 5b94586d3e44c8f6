"""Usage statistics, COUNTER-style: views, page reads, downloads and searches, with robots left
out, double clicks within 30 seconds counted once, and no raw IP address ever stored.

A visitor is known only by an HMAC of (address, user agent, library day) under the app's secret:
enough to fold double clicks together, useless to find a person, and different every day.
Events carry the library month they fall in; ``roll_up`` sums closed months into UsageMonthly,
and ``usage_counts`` reads rolled months from there and the others from the events.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import counter_robots
from sqlalchemy import Date, Index, String, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from repository.clock import LIBRARY_TIMEZONE
from repository.db import Database
from repository.models import Base, UTCDateTime, enum_column, intpk, utcnow

DOUBLE_CLICK = timedelta(seconds=30)
MAX_QUERY_CHARS = 200
SPACES = re.compile(r"\s+")
# The columns an event and a monthly sum share; the first five are what a count is grouped by.
COUNT_KEYS = ("month", "kind", "item_id", "collection_id", "query")


class UsageKind(enum.Enum):
    VIEW = "view"            # an item's description page
    PAGE = "page"            # one page opened in the viewer
    DOWNLOAD = "download"    # the PDF or an original file
    SEARCH = "search"        # a search with words in it


class UsageEvent(Base):
    """One counted use; a double click within 30 seconds moves ``last_at`` instead of adding
    a row. Item and collection ids are kept without foreign keys: the history stays whole even
    when an item is deleted."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_visitor_last", "visitor_key", "last_at"),
        Index("ix_usage_events_month_kind_item", "month", "kind", "item_id"),
    )

    id: Mapped[intpk]
    kind: Mapped[UsageKind] = enum_column(UsageKind)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    month: Mapped[date] = mapped_column(Date)  # first day of the month, in library time
    item_id: Mapped[int | None]
    collection_id: Mapped[int | None]
    page: Mapped[int | None]
    query: Mapped[str | None] = mapped_column(String(MAX_QUERY_CHARS))
    visitor_key: Mapped[str] = mapped_column(String(64))


class UsageMonthly(Base):
    """The events of one closed month summed per kind and target, for fast dashboards."""

    __tablename__ = "usage_monthly"
    __table_args__ = (Index("ix_usage_monthly_month_kind", "month", "kind"),)

    id: Mapped[intpk]
    month: Mapped[date] = mapped_column(Date)
    kind: Mapped[UsageKind] = enum_column(UsageKind)
    item_id: Mapped[int | None]
    collection_id: Mapped[int | None]
    query: Mapped[str | None] = mapped_column(String(MAX_QUERY_CHARS))
    count: Mapped[int]


# -- who and what --------------------------------------------------------------------------

def visitor_key(secret: bytes, address: str | None, user_agent: str | None, day: date) -> str:
    """The day's pseudonym of a visitor: HMAC-SHA256 of address, user agent and day."""
    message = "\n".join(("khoso-usage", day.isoformat(), address or "", user_agent or ""))
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def is_robot(user_agent: str | None) -> bool:
    """Robots, crawlers and scripts by the COUNTER robots list (and Make Data Count's machine
    list), from the ``counter-robots`` package. An empty user agent counts as a robot. The
    lower-case patterns ("bot", "spider", "crawl", "python") also match in any case."""
    agent = user_agent or ""
    return (counter_robots.is_robot_or_machine(agent)
            or counter_robots.is_robot_or_machine(agent.lower()))


def normalize_query(text: str) -> str:
    """Search words as counted: NFC, lower case, single spaces, at most 200 characters."""
    folded = SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip().lower()
    return folded[:MAX_QUERY_CHARS].rstrip()


def library_month(moment: datetime) -> date:
    return moment.astimezone(LIBRARY_TIMEZONE).date().replace(day=1)


def library_day(moment: datetime) -> date:
    return moment.astimezone(LIBRARY_TIMEZONE).date()


# -- recording -----------------------------------------------------------------------------

def record_event(session: Session, kind: UsageKind, *, visitor_key: str, now: datetime,
                 item_id: int | None = None, collection_id: int | None = None,
                 page: int | None = None, query: str | None = None) -> UsageEvent | None:
    """Count one use, unless it is a double click: the same visitor, kind and target within
    30 seconds of the last click folds into that event (so a burst counts once, as COUNTER
    asks). Returns the new event, or None for a double click or an empty search. The caller
    commits; robots are the caller's to leave out (``is_robot``)."""
    if query is not None:
        query = normalize_query(query)
        if not query:
            return None
    target = {"item_id": item_id, "page": page, "query": query}
    previous = _last_click(session, kind, visitor_key, now, target)
    if previous is not None:
        previous.last_at = max(previous.last_at, now)
        return None
    event = UsageEvent(kind=kind, occurred_at=now, last_at=now, month=library_month(now),
                       collection_id=collection_id, visitor_key=visitor_key, **target)
    session.add(event)
    return event


def _last_click(session: Session, kind: UsageKind, key: str, now: datetime,
                target: dict) -> UsageEvent | None:
    conditions = [getattr(UsageEvent, name).is_(None) if value is None
                  else getattr(UsageEvent, name) == value for name, value in target.items()]
    return session.scalar(
        select(UsageEvent)
        .where(UsageEvent.visitor_key == key, UsageEvent.last_at >= now - DOUBLE_CLICK,
               UsageEvent.kind == kind, *conditions)
        .order_by(UsageEvent.last_at.desc()).limit(1))


# -- monthly sums --------------------------------------------------------------------------

def roll_up(session: Session, now: datetime) -> list[date]:
    """Sum every closed month (before the current library month) not summed yet into
    UsageMonthly, and return those months. Idempotent; the caller commits."""
    current = library_month(now)
    done = select(UsageMonthly.month).distinct()
    months = list(session.scalars(
        select(UsageEvent.month).distinct()
        .where(UsageEvent.month < current, UsageEvent.month.not_in(done))
        .order_by(UsageEvent.month)))
    for month in months:
        columns = [getattr(UsageEvent, name) for name in COUNT_KEYS]
        summed = (select(*columns, func.count()).where(UsageEvent.month == month)
                  .group_by(*columns))
        session.execute(insert(UsageMonthly).from_select([*COUNT_KEYS, "count"], summed))
    return months


def usage_counts(session: Session, keys: Iterable[str], first: date, last: date,
                 kinds: Iterable[UsageKind] | None = None) -> Counter:
    """Counts between the months ``first`` and ``last`` (both included) grouped by ``keys``
    (names from COUNT_KEYS), as a Counter keyed by tuples of those values. Summed months are
    read from UsageMonthly, the others from the events."""
    keys = tuple(keys)
    kinds = list(kinds) if kinds is not None else list(UsageKind)
    rolled = list(session.scalars(select(UsageMonthly.month).distinct().where(
        UsageMonthly.month.between(first, last))))
    totals: Counter = Counter()
    live = _grouped(UsageEvent, keys, func.count(), first, last, kinds)
    if rolled:
        live = live.where(UsageEvent.month.not_in(rolled))
        summed = _grouped(UsageMonthly, keys, func.sum(UsageMonthly.count), first, last, kinds)
        totals.update(_rows(session, summed.where(UsageMonthly.month.in_(rolled))))
    totals.update(_rows(session, live))
    return totals


def _grouped(model, keys: tuple[str, ...], total, first: date, last: date,
             kinds: list[UsageKind]):
    columns = [getattr(model, name) for name in keys]
    return (select(*columns, total)
            .where(model.month.between(first, last), model.kind.in_(kinds))
            .group_by(*columns))


def _rows(session: Session, query) -> dict[tuple, int]:
    return {tuple(row[:-1]): int(row[-1]) for row in session.execute(query)}


def scheduled_rollup(db: Database) -> list[date]:
    """The nightly job: sum the months that closed since the last run."""
    with db.session() as session:
        return roll_up(session, utcnow())
