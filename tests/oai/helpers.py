"""Building small libraries for the OAI-PMH tests, through the services or (for thousands
of records) with bulk inserts, and asking the provider."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert

from repository import collections, items
from repository.access import Policy
from repository.access_rules import RuleChange, set_rule
from repository.dublin_core import Statement
from repository.models import AccessLevel, DCValue, Item, ItemStatus, utcnow
from repository.oai.provider import ProviderSettings, respond
from repository.oai.records import sync_records
from repository.oai.tokens import TokenSigner
from tests.oai.schemas import validated

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
BASE_URL = "http://thuvien.example.org/oai"
SECRET = "test-secret"


def settings(page_size: int = 100) -> ProviderSettings:
    return ProviderSettings(
        base_url=BASE_URL, repository_name="Khoso · Thư viện tỉnh",
        admin_email="thuvien@example.org", repository_identifier="thuvien.example.org",
        signer=TokenSigner(SECRET), item_url=lambda handle: f"http://thuvien.example.org/items/{handle}",
        page_size=page_size)


def identifier(handle: str) -> str:
    return f"oai:thuvien.example.org:{handle}"


def ask(session, now: datetime | None = None, page_size: int = 100, pairs=None, **arguments):
    """The provider's validated answer to ``arguments`` (or to raw ``pairs``)."""
    pairs = pairs if pairs is not None else list(arguments.items())
    return validated(respond(session, Policy(), settings(page_size), pairs, now))


def error_codes(root) -> list[str]:
    return [element.get("code") for element in root.iter(f"{OAI}error")]


def identifiers(root) -> list[str]:
    return [element.text for element in root.iter(f"{OAI}identifier")]


def token_of(root):
    return next(root.iter(f"{OAI}resumptionToken"), None)


def open_collection(session, slug: str, title: str, parent: str | None = None,
                    level: AccessLevel | None = AccessLevel.OPEN):
    collection = collections.create_collection(session, slug=slug, title=title,
                                               parent_slug=parent,
                                               description=f"Mô tả {title}")
    if level is not None:
        set_rule(session, None, RuleChange(metadata=level, view=level), collection=collection)
    return collection


def add_item(session, collection, title: str, publish: bool = True, **extra) -> Item:
    statements = [Statement("title", title, language="vi"), Statement("creator", "Nguyễn Du")]
    statements += [Statement(element, value) for element, value in extra.items()]
    item = items.create_item(session, collection, statements)
    if publish:
        items.change_status(session, item, ItemStatus.PUBLISHED)
    session.flush()
    return item


def sync(session, now: datetime | None = None):
    report = sync_records(session, Policy(), now=now)
    session.commit()
    return report


def bulk_items(session, collection, count: int, prefix: str = "b") -> list[int]:
    """``count`` published items of ``collection`` with a title and a creator, inserted in
    two statements (the services would take minutes for thousands)."""
    rule_id = collection_rule_id(session, collection)
    now = utcnow()
    ids = list(session.scalars(insert(Item).returning(Item.id), [
        {"handle": f"{prefix}{number:010d}", "collection_id": collection.id,
         "status": ItemStatus.PUBLISHED, "effective_rule_id": rule_id, "published_at": now,
         "created_at": now, "updated_at": now, "withdrawal_reason": ""}
        for number in range(count)]))
    session.execute(insert(DCValue), [
        row for number, item_id in enumerate(ids) for row in (
            {"item_id": item_id, "element": "title", "value": f"Sách số {number}",
             "language": "vi", "position": 0},
            {"item_id": item_id, "element": "creator", "value": "Phan Bội Châu",
             "language": None, "position": 0})])
    session.flush()
    return ids


def collection_rule_id(session, collection) -> int:
    from repository.access_rules import inherited_rule_id
    return inherited_rule_id(session, collection)


def later(moment: datetime, seconds: int) -> datetime:
    return moment + timedelta(seconds=seconds)
