"""Finding a page image by its IIIF identifier (the page's uid), with the policy's answer.

The rule is find_item's: an item whose metadata the asker may not see is "not found" (or
"gone" when withdrawn), so that identifiers cannot be probed; one whose metadata is visible
but whose pages are not raises PermissionDenied (the web layer says 401 or 403).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from repository.access import Action, Identity, Policy
from repository.citation import cite
from repository.errors import N_, Gone, NotFound, PermissionDenied
from repository.images.sources import SourceFile
from repository.models import FileRole, Item, Page

# Stored images a request may be rendered from, besides the master.
SMALLER_ROLES = (FileRole.DERIVATIVE, FileRole.THUMBNAIL)


@dataclass(frozen=True)
class PageImage:
    """What the image service needs of a page: its size (0 when not recorded), its stored
    images, and whether anyone anywhere may view it (then it is shared cross-origin and by
    public caches)."""

    uid: str
    width: int
    height: int
    master: SourceFile
    smaller: tuple[SourceFile, ...]
    public: bool


def find_page_image(session: Session, uid: str, identity: Identity, policy: Policy) -> PageImage:
    page = session.scalar(select(Page).where(Page.uid == uid)
                          .options(joinedload(Page.item), selectinload(Page.files)))
    if page is None:
        raise NotFound(N_("No such page image"))
    check_visible(page.item, identity, policy)
    if not policy.can(identity, Action.VIEW_PAGES, page.item):
        raise PermissionDenied(N_("You may not view the pages of this item"))
    master = _files(page, (FileRole.MASTER,))
    if not master:
        raise NotFound(N_("No such page image"))
    return PageImage(uid=page.uid, width=page.width, height=page.height, master=master[0],
                     smaller=tuple(_files(page, SMALLER_ROLES)),
                     public=policy.can(Identity.anonymous(), Action.VIEW_PAGES, page.item))


def check_visible(item: Item, identity: Identity, policy: Policy) -> None:
    """Raise as ``items.find_item`` does when ``identity`` may not see ``item``'s metadata."""
    if policy.can(identity, Action.SEE_METADATA, item):
        return
    if policy.is_withdrawn_citation_visible(item):
        raise Gone(N_("This item has been withdrawn: %(citation)s"), citation=cite(item))
    raise NotFound(N_("No such item"))


def _files(page: Page, roles: tuple[FileRole, ...]) -> list[SourceFile]:
    return [SourceFile(stored.storage_key, stored.sha256, stored.media_type)
            for stored in page.files if stored.role in roles]
