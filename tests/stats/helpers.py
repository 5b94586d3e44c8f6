"""Small collections, items and events for the statistics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from repository import collections, items
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.models import AccessLevel, Item, ItemStatus, Page
from repository.usage import UsageKind, record_event

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "coc_coc_browser/117.0.216 Chrome/111.0.0.0 Safari/537.36")
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
TITLES = ("Truyện Kiều (bản Liễu Văn Đường)", "Địa chí tỉnh Nghệ An", "Báo Tiếng Dân số 1")
OPEN = RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN, download=AccessLevel.OPEN)


def holdings(session, pages: int = 2) -> list[Item]:
    """A collection «Hán Nôm» with three published items of two types, each with pages."""
    collection = collections.create_collection(session, slug="han-nom", title="Hán Nôm")
    set_rule(session, None, OPEN, collection=collection)
    made = []
    for number, title in enumerate(TITLES):
        kind = "Sách" if number < 2 else "Báo"
        item = items.create_item(session, collection, [Statement("title", title),
                                                       Statement("type", kind)])
        session.add_all(Page(item=item, sequence=s) for s in range(1, pages + 1))
        items.change_status(session, item, ItemStatus.PUBLISHED)
        made.append(item)
    session.flush()
    return made


def use(session, kind: UsageKind, when: datetime, visitor: str = "v1",
        item: Item | None = None, **target):
    return record_event(session, kind, visitor_key=visitor, now=when,
                        item_id=item.id if item else None,
                        collection_id=item.collection_id if item else None, **target)


def seconds(count: float) -> timedelta:
    return timedelta(seconds=count)
