"""Reading an item: what the asker may do with it and why, its pages as a light outline, and
the hOCR word boxes of the pages where a search inside the item matched.

No HTTP here: the web layer turns an :class:`AccessStatement` into sentences and the hits into
IIIF Content Search or JSON. hOCR is parsed by a function the caller hands in (the ingest
package owns the parser; the domain does not import it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from repository.access import Action, Identity, Policy
from repository.errors import N_, PermissionDenied
from repository.models import AccessLevel, FileRole, Item, ItemFile, Page
from repository.search import AccessFilter, ParsedQuery, SearchBackend, match_word_boxes
from repository.search.highlight import WordBox

HOCR_CACHE_PAGES = 512          # parsed hOCR pages kept per process
MAX_HOCR_BYTES = 8 * 1024**2    # a page's hOCR larger than this is not parsed


@dataclass(frozen=True)
class Requirement:
    """Who a right is for: a level, and for ``GROUPS`` the groups' titles."""

    level: AccessLevel
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessStatement:
    """What the asker may do with an item and what each right needs; ``None`` needs mean
    "library staff only" (no rule). ``embargo_until`` is set only while an embargo holds."""

    may_view: bool
    may_download: bool
    view: Requirement
    download: Requirement
    embargo_until: date | None
    watermark: bool
    signed_in: bool


def access_statement(identity: Identity, item: Item, policy: Policy) -> AccessStatement:
    """The policy's answers for ``item``, with what each right needs, for a reader to read."""
    rule = item.effective_rule
    staff = Requirement(AccessLevel.STAFF)
    if rule is None:
        view = download = staff
        embargo, watermark = None, False
    else:
        groups = tuple(group.title or group.name for group in rule.groups)
        view = Requirement(rule.view_level, groups if rule.view_level is AccessLevel.GROUPS
                           else ())
        download = Requirement(rule.download_level,
                               groups if rule.download_level is AccessLevel.GROUPS else ())
        embargo = rule.embargo_until if policy.is_embargoed(rule) else None
        watermark = bool(rule.watermark)
    return AccessStatement(
        may_view=policy.can(identity, Action.VIEW_PAGES, item),
        may_download=policy.can(identity, Action.DOWNLOAD, item),
        view=view, download=download, embargo_until=embargo, watermark=watermark,
        signed_in=identity.is_authenticated)


def require(policy: Policy, identity: Identity, action: Action, item: Item) -> None:
    """Raise PermissionDenied unless ``identity`` may do ``action`` with the (visible) item."""
    if not policy.can(identity, action, item):
        message = (N_("You may not download this document") if action is Action.DOWNLOAD
                   else N_("You may not view the pages of this item"))
        raise PermissionDenied(message)


@dataclass(frozen=True)
class PageRef:
    """What a viewer or manifest needs of one page (no text: a 1,000-page item stays light)."""

    id: int
    uid: str
    number: int
    label: str
    width: int
    height: int


def page_outline(session: Session, item: Item) -> list[PageRef]:
    """The item's pages in reading order, as light rows."""
    rows = session.execute(
        select(Page.id, Page.uid, Page.sequence, Page.label, Page.width, Page.height)
        .where(Page.item_id == item.id).order_by(Page.sequence))
    return [PageRef(row.id, row.uid, row.sequence, row.label or str(row.sequence),
                    row.width, row.height) for row in rows]


def clamp_page(number: int | None, count: int) -> int:
    """A page number the viewer can open: 1 for nonsense, the last page past the end."""
    if not number or number < 1:
        return 1
    return min(number, max(1, count))


def item_file(session: Session, item: Item, role: FileRole,
              file_id: int | None = None) -> ItemFile | None:
    """The item's whole-item file with ``role`` (the first one), or the file ``file_id`` of
    the item if it has that role."""
    query = select(ItemFile).where(ItemFile.item_id == item.id, ItemFile.role == role)
    if file_id is not None:
        query = query.where(ItemFile.id == file_id)
    return session.scalars(query.order_by(ItemFile.id).limit(1)).first()


@dataclass(frozen=True)
class PageWords:
    """The words of a page's hOCR, in the hOCR image's pixels (``width`` × ``height``)."""

    width: int
    height: int
    words: tuple[WordBox, ...]


HocrParser = Callable[[bytes], PageWords]


class WordBoxes:
    """Reads pages' hOCR from the object store, each file parsed once per process (an LRU
    keyed by the file's sha256, so a replaced file is read anew)."""

    def __init__(self, store: storage.ObjectStore, parse: HocrParser,
                 capacity: int = HOCR_CACHE_PAGES) -> None:
        self._store = store
        self._parse = parse
        self._capacity = capacity
        self._pages: OrderedDict[str, PageWords] = OrderedDict()
        self._lock = threading.Lock()

    def of_file(self, stored: ItemFile) -> PageWords | None:
        with self._lock:
            found = self._pages.get(stored.sha256)
            if found is not None:
                self._pages.move_to_end(stored.sha256)
                return found
        if stored.size > MAX_HOCR_BYTES:
            return None
        with self._store.open(stored.storage_key) as stream:
            words = self._parse(stream.read())
        with self._lock:
            self._pages[stored.sha256] = words
            while len(self._pages) > self._capacity:
                self._pages.popitem(last=False)
        return words


@dataclass(frozen=True)
class Box:
    """A word on the page's canvas (the page's recorded size), in whole pixels."""

    text: str
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class PageHit:
    """A page where the query matched: its snippet (safe HTML) and the matching words' boxes
    (empty when the page has no hOCR: the viewer then marks the page, not words)."""

    page: PageRef
    snippet: str | None
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class InsideHits:
    total: int
    pages: tuple[PageHit, ...]


def canvas_boxes(words: Sequence[WordBox], source: PageWords, page: PageRef) -> tuple[Box, ...]:
    """hOCR word boxes scaled from the OCR image's pixels to the page's canvas."""
    scale_x = page.width / source.width if source.width and page.width else 1.0
    scale_y = page.height / source.height if source.height and page.height else 1.0
    boxes = []
    for text, x0, y0, x1, y1 in words:
        left, top = round(x0 * scale_x), round(y0 * scale_y)
        boxes.append(Box(text, left, top, max(1, round(x1 * scale_x) - left),
                         max(1, round(y1 * scale_y) - top)))
    return tuple(boxes)


def page_boxes(session: Session, boxes: WordBoxes, page: PageRef,
               query: ParsedQuery | None) -> tuple[Box, ...]:
    """The page's words on its canvas: those ``query`` matches, or all of them."""
    stored = session.scalars(select(ItemFile).where(
        ItemFile.page_id == page.id, ItemFile.role == FileRole.HOCR).limit(1)).first()
    source = boxes.of_file(stored) if stored is not None else None
    if source is None:
        return ()
    words = source.words if query is None else match_word_boxes(source.words, query)
    return canvas_boxes(words, source, page)


def search_pages(session: Session, search: SearchBackend, access: AccessFilter, item: Item,
                 query: str, boxes: WordBoxes) -> InsideHits:
    """Search inside ``item`` (``access`` is the asker's search filter) and find, on each
    matching page, the boxes of the words that matched."""
    result = search.search_inside(item.id, query, access)
    if not result.pages:
        return InsideHits(result.total, ())
    numbers = [match.number for match in result.pages]
    outline = {page.number: page for page in _pages_numbered(session, item, numbers)}
    hocr = _hocr_files(session, [page.id for page in outline.values()])
    hits = []
    for match in result.pages:
        page = outline.get(match.number)
        if page is None:
            continue  # the index is a step behind the database: the page went
        source = boxes.of_file(hocr[page.id]) if page.id in hocr else None
        found = () if source is None else canvas_boxes(
            match_word_boxes(source.words, result.query), source, page)
        hits.append(PageHit(page, match.snippet, found))
    return InsideHits(result.total, tuple(hits))


def _pages_numbered(session: Session, item: Item, numbers: list[int]) -> list[PageRef]:
    rows = session.execute(
        select(Page.id, Page.uid, Page.sequence, Page.label, Page.width, Page.height)
        .where(Page.item_id == item.id, Page.sequence.in_(numbers)))
    return [PageRef(row.id, row.uid, row.sequence, row.label or str(row.sequence),
                    row.width, row.height) for row in rows]


def _hocr_files(session: Session, page_ids: list[int]) -> dict[int, ItemFile]:
    found: dict[int, ItemFile] = {}
    for stored in session.scalars(select(ItemFile).where(
            ItemFile.page_id.in_(page_ids), ItemFile.role == FileRole.HOCR)
            .order_by(ItemFile.id)):
        found.setdefault(stored.page_id, stored)
    return found


def download_name(item: Item, extension: str) -> str:
    """A file name from the item's title, Vietnamese kept, characters unsafe in names out."""
    unsafe = '/\\:*?"<>|\x00'
    title = "".join(" " if char in unsafe or ord(char) < 32 else char for char in item.title)
    title = " ".join(title.split())[:150].strip(" .") or item.handle
    return f"{title}.{extension.lstrip('.')}"
