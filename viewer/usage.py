"""Counting use from the web, one call per counted request: robots are left out, the visitor
is a daily pseudonym (never the address), and a failure to count is logged, never shown.

Call these after the access check passed and before streaming, from views that have not
written to the request's session (the count commits in a session of its own)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from repository.models import Item, ItemStatus, Page, utcnow
from repository.usage import UsageKind, is_robot, library_day, record_event, visitor_key
from viewer.extensions import parts

# Finds, in the counting session, what an event records (None: nothing to count).
Target = Callable[[Session], dict | None]


def count_view(item: Item) -> None:
    """The item's description page was shown."""
    _count(UsageKind.VIEW, _target(item))


def count_page(item: Item, sequence: int) -> None:
    """Page ``sequence`` of the item was opened in the viewer (count the page, not its tiles)."""
    _count(UsageKind.PAGE, _target(item, page=sequence))


def count_page_image(uid: str) -> None:
    """The page whose IIIF identifier is ``uid`` was opened: call it from info.json, which a
    viewer asks for once per page, never from the tiles."""
    _count(UsageKind.PAGE, lambda session: _page_target(session, uid))


def count_download(item: Item) -> None:
    """The PDF or an original file was sent; the later parts of a ranged download are not
    counted again (pdf.js and players fetch a file in many ranges)."""
    ranged = request.headers.get("Range", "")
    if ranged and not ranged.replace(" ", "").startswith("bytes=0-"):
        return
    _count(UsageKind.DOWNLOAD, _target(item))


def count_search(query: str, page: int = 1) -> None:
    """A search with words in it was run; turning to its later result pages is not counted."""
    if page == 1:
        _count(UsageKind.SEARCH, lambda _session: {"query": query})


def _target(item: Item, **more) -> Target:
    """What an event about ``item`` records; None (nothing) unless it is published, since
    staff looking at drafts and withdrawn items is not use."""
    if item.status is not ItemStatus.PUBLISHED:
        return lambda _session: None
    return lambda _session: {"item_id": item.id, "collection_id": item.collection_id, **more}


def _page_target(session: Session, uid: str) -> dict | None:
    found = session.execute(
        select(Page.item_id, Page.sequence, Item.collection_id)
        .join(Item, Page.item_id == Item.id)
        .where(Page.uid == uid, Item.status == ItemStatus.PUBLISHED)).first()
    if found is None:
        return None
    return {"item_id": found.item_id, "collection_id": found.collection_id,
            "page": found.sequence}


def _count(kind: UsageKind, target: Target) -> None:
    agent = request.user_agent.string
    if request.method != "GET" or is_robot(agent):
        return
    now = utcnow()
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    key = visitor_key(secret, request.remote_addr, agent, library_day(now))
    try:
        with parts().db.session() as session:
            where = target(session)
            if where is not None:
                record_event(session, kind, visitor_key=key, now=now, **where)
    except SQLAlchemyError as exc:
        current_app.logger.error("usage not counted (%s): %s", kind.value, exc)
