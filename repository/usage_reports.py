"""The figures of the statistics dashboard and its exports: use per month, top items and
queries, and how the digital holdings grew. Months are library months (Viet Nam time)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, selectinload

from repository.clock import LIBRARY_TIMEZONE
from repository.models import Collection, DCValue, Item, ItemStatus, Page
from repository.usage import UsageKind, library_month, usage_counts

ITEM_KINDS = (UsageKind.VIEW, UsageKind.PAGE, UsageKind.DOWNLOAD)
CHUNK = 500


def last_months(now: datetime, count: int) -> list[date]:
    """The first days of the ``count`` library months up to and including ``now``'s."""
    month = library_month(now)
    months = []
    for _ in range(max(1, count)):
        months.append(month)
        month = (month - timedelta(days=1)).replace(day=1)
    return months[::-1]


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_start(month: date) -> datetime:
    """The instant a library month begins."""
    return datetime.combine(month, time(), LIBRARY_TIMEZONE)


# -- use -----------------------------------------------------------------------------------

def monthly_totals(session: Session, months: list[date]) -> dict[UsageKind, list[int]]:
    """Counts per kind for each of ``months``, in order (zero where nothing happened)."""
    counts = usage_counts(session, ("month", "kind"), months[0], months[-1])
    return {kind: [counts[(month, kind)] for month in months] for kind in UsageKind}


@dataclass(frozen=True)
class ItemUsage:
    item_id: int
    handle: str | None
    title: str
    collection: str
    views: int
    pages: int
    downloads: int


def top_items(session: Session, first: date, last: date, limit: int = 10) -> list[ItemUsage]:
    """The most viewed items (then most read, then most downloaded) between two months."""
    counts = usage_counts(session, ("item_id", "kind"), first, last, ITEM_KINDS)
    per_item: dict[int, Counter] = {}
    for (item_id, kind), count in counts.items():
        if item_id is not None:
            per_item.setdefault(item_id, Counter())[kind] = count
    ranked = sorted(per_item, key=lambda i: (
        -per_item[i][UsageKind.VIEW], -per_item[i][UsageKind.PAGE],
        -per_item[i][UsageKind.DOWNLOAD], i))[:limit]
    items = _items(session, ranked)
    return [_item_usage(item_id, items.get(item_id), per_item[item_id]) for item_id in ranked]


def _item_usage(item_id: int, item: Item | None, counts: Counter) -> ItemUsage:
    return ItemUsage(
        item_id=item_id, handle=item.handle if item else None,
        title=item.title if item else f"#{item_id}",
        collection=item.collection.title if item else "",
        views=counts[UsageKind.VIEW], pages=counts[UsageKind.PAGE],
        downloads=counts[UsageKind.DOWNLOAD])


def top_queries(session: Session, first: date, last: date,
                limit: int = 10) -> list[tuple[str, int]]:
    """The searches made most often between two months, as (words, count)."""
    counts = usage_counts(session, ("query",), first, last, [UsageKind.SEARCH])
    ranked = sorted(((query, count) for (query,), count in counts.items() if query),
                    key=lambda pair: (-pair[1], pair[0]))
    return ranked[:limit]


def _items(session: Session, ids: Iterable[int]) -> dict[int, Item]:
    ids = list(ids)
    found: dict[int, Item] = {}
    for start in range(0, len(ids), CHUNK):
        found.update((item.id, item) for item in session.scalars(
            select(Item).where(Item.id.in_(ids[start:start + CHUNK]))
            .options(selectinload(Item.dc_values), selectinload(Item.collection))))
    return found


# -- holdings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Holdings:
    """Published items and their pages at the end of each month, and items by DC type now."""

    months: list[date]
    items: list[int]
    pages: list[int]
    by_type: list[tuple[str, int]]

    @property
    def total_items(self) -> int:
        return self.items[-1] if self.items else 0

    @property
    def total_pages(self) -> int:
        return self.pages[-1] if self.pages else 0


def holdings(session: Session, months: list[date]) -> Holdings:
    """How the published holdings grew: cumulative items and pages by the month they were
    published, and the published items per Dublin Core type (an empty type: none given)."""
    published = Item.status == ItemStatus.PUBLISHED
    items, pages = [], []
    for month in months:
        before = published & (Item.published_at < month_start(_next_month(month)))
        items.append(session.scalar(select(func.count(Item.id)).where(before)) or 0)
        pages.append(session.scalar(
            select(func.count(Page.id)).join(Item, Page.item_id == Item.id).where(before)) or 0)
    return Holdings(months, items, pages, _by_type(session, published))


def _by_type(session: Session, published) -> list[tuple[str, int]]:
    typed = list(session.execute(
        select(DCValue.value, func.count(distinct(DCValue.item_id)))
        .join(Item, DCValue.item_id == Item.id)
        .where(published, DCValue.element == "type")
        .group_by(DCValue.value)))
    with_type = session.scalar(
        select(func.count(distinct(DCValue.item_id))).join(Item, DCValue.item_id == Item.id)
        .where(published, DCValue.element == "type")) or 0
    total = session.scalar(select(func.count(Item.id)).where(published)) or 0
    ranked = sorted(((value, count) for value, count in typed), key=lambda p: (-p[1], p[0]))
    return ranked + ([("", total - with_type)] if total > with_type else [])


# -- exports -------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthlyRow:
    """One line of an export: a month, an item or a collection, and its counts."""

    month: date
    target_id: int | None
    code: str      # the item's handle or the collection's slug
    title: str
    collection: str
    views: int
    pages: int
    downloads: int


def monthly_rows(session: Session, by: str, first: date, last: date) -> Iterator[MonthlyRow]:
    """Counts per month and item (``by="item"``) or collection (``by="collection"``, the
    collection an item was in when it was used), month by month, busiest first."""
    key = "item_id" if by == "item" else "collection_id"
    counts = usage_counts(session, ("month", key, "kind"), first, last, ITEM_KINDS)
    grouped: dict[tuple[date, int | None], Counter] = {}
    for (month, target, kind), count in counts.items():
        grouped.setdefault((month, target), Counter())[kind] = count
    names = (_item_names(session, {t for _, t in grouped}) if by == "item"
             else _collection_names(session, {t for _, t in grouped}))
    for month, target in sorted(grouped, key=lambda k: (k[0], -grouped[k][UsageKind.VIEW],
                                                        k[1] or 0)):
        code, title, collection = names.get(target, ("", f"#{target}" if target else "", ""))
        counts_of = grouped[(month, target)]
        yield MonthlyRow(month, target, code, title, collection, counts_of[UsageKind.VIEW],
                         counts_of[UsageKind.PAGE], counts_of[UsageKind.DOWNLOAD])


def _item_names(session: Session, ids: set[int | None]) -> dict[int, tuple[str, str, str]]:
    items = _items(session, (i for i in ids if i is not None))
    return {i: (item.handle, item.title, item.collection.title) for i, item in items.items()}


def _collection_names(session: Session,
                      ids: set[int | None]) -> dict[int, tuple[str, str, str]]:
    wanted = [i for i in ids if i is not None]
    found = session.scalars(select(Collection).where(Collection.id.in_(wanted))) if wanted else []
    return {c.id: (c.slug, c.title, "") for c in found}

