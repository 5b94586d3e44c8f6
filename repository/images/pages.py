"""Finding a page image by its IIIF identifier (the page's uid), with the policy's answer.

The rule is find_item's (``items.ensure_visible``): an item whose metadata the asker may not
see is "not found" (or "gone", for a withdrawn item the asker could once see), so that
identifiers cannot be probed; one whose metadata is visible but whose pages are not raises
PermissionDenied (the web layer says 401 or 403).

A page that anyone anywhere may view, without a watermark, is the same for every reader: the
policy is asked for the anonymous identity, and the asker's own identity is not even looked up
(no session, no cookie), so that such images may be shared cross-origin and cached publicly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from repository.access import Action, Identity, Policy
from repository.errors import N_, NotFound, PermissionDenied
from repository.images.sources import SourceFile
from repository.items import ensure_visible
from repository.models import FileRole, Item, Page

# Stored images a request may be rendered from, besides the master.
SMALLER_ROLES = (FileRole.DERIVATIVE, FileRole.THUMBNAIL)


@dataclass(frozen=True)
class PageImage:
    """What the image service needs of a page: its size (0 when not recorded), its stored
    images, the watermark the asker's copies carry, and whether it is ``public`` (the same
    for everyone, anywhere)."""

    uid: str
    width: int
    height: int
    master: SourceFile
    smaller: tuple[SourceFile, ...]
    public: bool
    watermark: str | None = None


def find_page_image(session: Session, uid: str, policy: Policy,
                    identity: Callable[[], Identity]) -> PageImage:
    """The page image ``uid`` as the asker may see it; ``identity()`` is called only when the
    page is not public."""
    page = _load_page(session, uid)
    anonymous = Identity.anonymous()
    public = policy.can(anonymous, Action.VIEW_PAGES, page.item) and \
        policy.watermark_text(anonymous, page.item) is None
    asker = anonymous if public else identity()
    ensure_visible(page.item, asker, policy)
    if not policy.can(asker, Action.VIEW_PAGES, page.item):
        raise PermissionDenied(N_("You may not view the pages of this item"))
    master = _files(page, (FileRole.MASTER,))
    if not master:
        raise NotFound(N_("No such page image"))
    return PageImage(uid=page.uid, width=page.width, height=page.height, master=master[0],
                     smaller=tuple(_files(page, SMALLER_ROLES)), public=public,
                     watermark=policy.watermark_text(asker, page.item))


def _load_page(session: Session, uid: str) -> Page:
    page = session.scalars(_page_by_uid(), {"uid": uid}).unique().one_or_none()
    if page is None:
        raise NotFound(N_("No such page image"))
    return page


@functools.cache
def _page_by_uid() -> Select:
    """Every tile asks, so the page, its item, rule and files come in one round trip, from a
    statement built once (building it anew took longer than running it)."""
    return select(Page).where(Page.uid == bindparam("uid")).options(
        joinedload(Page.item).joinedload(Item.effective_rule), joinedload(Page.files))


def _files(page: Page, roles: tuple[FileRole, ...]) -> list[SourceFile]:
    return [SourceFile(stored.storage_key, stored.sha256, stored.media_type)
            for stored in page.files if stored.role in roles]
