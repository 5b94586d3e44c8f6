"""The search service's contract: requests, results, errors, and the interface every backend
implements (an embedded tantivy index on one machine, PostgreSQL full text for several)."""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from repository.search.documents import ItemDocument, PageDocument
from repository.search.filters import AccessFilter
from repository.search.query import ParsedQuery, Phrase, QueryNote, Term

FACETS = ("collection", "type", "language", "decade", "access")
MAX_PER_PAGE = 100
MAX_RESULT_PAGE = 500
MAX_SNIPPETS = 3
MAX_PAGES_PER_HIT = 20
INSIDE_LIMIT = 300


class SearchError(Exception):
    """Base of the search service's errors."""


class SearchUnavailable(SearchError):
    """The backend cannot answer now (index missing or locked, database down, not configured).

    The message says what is wrong for the log; the web layer shows the reader a short apology.
    """


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"
    TITLE = "title"
    """Vietnamese alphabetical order (a ă â b c d đ …), tones breaking ties."""


@dataclass(frozen=True)
class SearchRequest:
    """One results page: the reader's ``query`` text, facet ``filters`` (facet → values, OR
    within a facet, AND across facets), the order, and which page."""

    query: str = ""
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sort: Sort = Sort.RELEVANCE
    page: int = 1
    per_page: int = 10
    with_facets: bool = True
    with_snippets: bool = True

    def bounded(self) -> SearchRequest:
        """The same request with paging clamped to what backends serve."""
        per_page = min(max(1, int(self.per_page)), MAX_PER_PAGE)
        page = min(max(1, int(self.page)), MAX_RESULT_PAGE)
        filters = {name: frozenset(values) for name, values in self.filters.items()
                   if name in FACETS and values}
        return replace(self, page=page, per_page=per_page, filters=filters)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Snippet:
    """A passage of page ``page`` as safe HTML, query words in ``<mark>``."""

    page: int
    html: str


@dataclass(frozen=True)
class Hit:
    """One matching item: the best ``snippets`` and the page numbers where the words are."""

    item_id: int
    score: float
    title: str
    title_html: str
    creators: tuple[str, ...] = ()
    year: int | None = None
    snippets: tuple[Snippet, ...] = ()
    pages: tuple[int, ...] = ()
    """Numbers of the best matching pages (at most MAX_PAGES_PER_HIT), in page order."""
    page_count: int = 0
    """How many pages match in all (search inside the item lists them all)."""

    @property
    def best_page(self) -> int | None:
        """The page the viewer should open on: the one with the best snippet."""
        return self.snippets[0].page if self.snippets else None


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class SearchResult:
    """``total`` distinct items matched; ``facets`` count distinct items per value."""

    total: int
    hits: tuple[Hit, ...]
    facets: Mapping[str, tuple[FacetValue, ...]]
    request: SearchRequest
    query: ParsedQuery

    @property
    def notes(self) -> tuple[QueryNote, ...]:
        return self.query.notes

    @property
    def last_page(self) -> int:
        """The number of the last results page (1 when nothing matched)."""
        return max(1, -(-self.total // self.request.per_page))


@dataclass(frozen=True)
class PageMatch:
    """A page of one item where the query's words are, with a snippet when it has one."""

    number: int
    snippet: str | None


@dataclass(frozen=True)
class InsideResult:
    """Search inside one item: matching ``pages`` in page order (at most the limit asked)."""

    item_id: int
    total: int
    pages: tuple[PageMatch, ...]
    query: ParsedQuery


def effective_sort(sort: Sort, parsed: ParsedQuery) -> Sort:
    """Relevance needs words to rank by; without any (browsing, a year alone) use the title."""
    if sort is Sort.RELEVANCE and not any(isinstance(atom, Term | Phrase)
                                          for group in parsed.required for atom in group):
        return Sort.TITLE
    return sort


class SearchBackend(abc.ABC):
    """A search index of items and their pages.

    Writes replace an item and all its pages as one unit, after the database commit. Reads take
    an :class:`AccessFilter` and apply it inside the engine's query. Every method raises
    :class:`SearchUnavailable` when the engine cannot be reached; bad query text never raises.
    """

    @abc.abstractmethod
    def index(self, item: ItemDocument, pages: Iterable[PageDocument]) -> None:
        """Add or replace ``item`` with exactly these ``pages``; visible when this returns."""

    @abc.abstractmethod
    def index_many(self, entries: Iterable[tuple[ItemDocument, Iterable[PageDocument]]]) -> int:
        """Add or replace many items in one batch (rebuilds); returns how many were indexed."""

    @abc.abstractmethod
    def delete(self, item_id: int) -> None:
        """Remove an item and its pages; removing an absent item is not an error."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove everything (before a full rebuild)."""

    @abc.abstractmethod
    def search(self, request: SearchRequest, access: AccessFilter) -> SearchResult:
        """One page of matching items, best first (or in the order asked), with facet counts."""

    @abc.abstractmethod
    def search_inside(self, item_id: int, query: str, access: AccessFilter,
                      limit: int = INSIDE_LIMIT) -> InsideResult:
        """The pages of one item that match ``query``, in page order, with snippets."""

    @abc.abstractmethod
    def destroy(self) -> None:
        """Delete the whole index, files or schema (tests, rebuilds from scratch)."""

    def close(self) -> None:  # noqa: B027 - an optional hook, not every backend holds resources
        """Release files or connections."""
