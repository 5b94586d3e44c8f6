"""Keeping the search index true to the database: documents built from items, and items
re-indexed after the transaction that changed them commits (never before)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from repository.access import Identity, Policy
from repository.models import AccessRule, Item, Page
from repository.search import AccessFilter, ItemDocument, PageDocument, SearchBackend

PENDING_KEY = "khoso.reindex"
BATCH = 200


def mark_for_reindex(session: Session, item_ids: Iterable[int]) -> None:
    """Ask for these items to be re-indexed once the session's transaction commits."""
    session.info.setdefault(PENDING_KEY, set()).update(item_ids)


def mark_all_for_reindex(session: Session) -> None:
    """After a change that may touch any item's rights (a collection rule, a group rename)."""
    mark_for_reindex(session, session.scalars(select(Item.id)))


def item_document(item: Item, policy: Policy) -> ItemDocument:
    """The item's search document: its Dublin Core, facets and who may find and read it."""
    values: dict[str, list[str]] = {}
    for value in item.dc_values:
        values.setdefault(value.element, []).append(value.value)
    principals = policy.index_principals(item)
    rule = item.effective_rule
    return ItemDocument.from_dublin_core(
        item.id, values, collection=item.collection.slug,
        access=rule.view_level.value if rule else "staff",
        metadata_principals=principals.metadata, view_principals=principals.view,
        embargo_until=principals.embargo_until)


def page_documents(document: ItemDocument, pages: Iterable[Page]) -> list[PageDocument]:
    return [document.page(page.sequence, page.text) for page in pages if page.text]


def _load(session: Session, item_ids: list[int]) -> list[Item]:
    return list(session.scalars(
        select(Item).where(Item.id.in_(item_ids)).options(
            selectinload(Item.dc_values), selectinload(Item.pages),
            selectinload(Item.collection),
            selectinload(Item.effective_rule).selectinload(AccessRule.groups))))


def reindex(session: Session, search: SearchBackend, policy: Policy,
            item_ids: Iterable[int]) -> int:
    """Index the given items as they are now; ids that no longer exist leave the index."""
    wanted = sorted(set(item_ids))
    done = 0
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        found = _load(session, chunk)
        entries = [(doc, page_documents(doc, item.pages))
                   for item in found for doc in [item_document(item, policy)]]
        done += search.index_many(entries)
        for missing in set(chunk) - {item.id for item in found}:
            search.delete(missing)
        session.expunge_all()
    return done


def all_item_ids(session: Session) -> Iterator[int]:
    yield from session.scalars(select(Item.id).order_by(Item.id))


def search_filter(identity: Identity, policy: Policy) -> AccessFilter:
    """The identity's search filter, made by the same policy that answers item checks."""
    return AccessFilter(principals=identity.principals, bypass=identity.is_staff,
                        today=policy.today())


def index_after_commit(factory: sessionmaker, search: Callable[[], SearchBackend],
                       policy: Policy, on_error: Callable[[Exception], None]) -> None:
    """Install the hook: when a session commits, re-index the items it marked.

    Indexing runs in a fresh session after the commit, so the index never shows what was
    rolled back; a search failure is reported, not raised: the database change stands and
    `khoso search reindex` repairs the index."""

    @event.listens_for(factory, "after_commit")
    def _reindex_marked(session: Session) -> None:
        pending = session.info.pop(PENDING_KEY, None)
        if not pending:
            return
        try:
            with factory() as fresh:
                reindex(fresh, search(), policy, pending)
        except Exception as exc:  # noqa: BLE001 - reported; the commit must stand
            on_error(exc)

    @event.listens_for(factory, "after_rollback")
    def _forget_marked(session: Session) -> None:
        session.info.pop(PENDING_KEY, None)
