"""Embedded search on tantivy, for one machine: an *items* index and a *pages* index on disk.

Why two indexes. Readers get items, but words live on pages. Each item document holds the
item's metadata *and* its full text (one value per page, so a phrase never spans two pages);
ranking, the total, facet counts, sorting and paging all run on the items index, where one
hit is one item: exact, and cheap, as books have tens to hundreds of pages, so the items
index holds that many times fewer documents, and no page hits are grouped in Python. The
pages index (one document per page) then answers only for the items on the current results
page: one search limited to their ids finds their best pages (whose stored text makes the
snippets) and most often all their matching pages; an aggregation counts these per item
when there are more. The price is indexing page text
twice (exact and folded, in both indexes): ~1,000 pages per CPU-second against bare
tantivy's ~4,000 for one field. Measured at 100,000 pages (bench/search_bench.py), a whole
results page (access filter, facets, 10 hits with 3 snippets each) costs about 6 ms of CPU
at p50 and 9 ms at p95: 1.9x a bare tantivy top-10 page query at p95, 2.8x at p50, where
bare rare-word queries take a fraction of a millisecond and ten hits' snippets do not.
The alternative, pages only and grouping by item, needs every matching page for exact item
totals and facets: a common word matches most of the 100,000 pages.

A page guarded differently from its item (stricter view principals, a later embargo) is
left out of the item's text, so it cannot leak under the item's rights; such a page is
found by searching inside the item, not by the item search.

Access lives inside every query: a document matches only if the identity shares one of its
``find_principals`` and its embargo day has passed; page text (the items' text field, every
page document) also needs one of its ``read_principals``. Each query word is therefore
"in the metadata, or in the text where the reader may read it", and an excluded word too.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import tantivy
from tantivy import Occur, Query

from repository.search.analysis import Word, normalize, vietnamese_sort_key
from repository.search.backend import (
    FACETS,
    INSIDE_LIMIT,
    MAX_PAGES_PER_HIT,
    MAX_SNIPPETS,
    FacetValue,
    Hit,
    InsideResult,
    PageMatch,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Snippet,
    Sort,
    effective_sort,
)
from repository.search.documents import ItemDocument, PageDocument
from repository.search.filters import AccessFilter
from repository.search.highlight import Highlighter
from repository.search.query import Atom, ParsedQuery, Phrase, Term, YearRange, parse_query

SCHEMA_VERSION = "1"
EXACT, FOLDED = "vi_exact", "vi_folded"
METADATA_WEIGHTS = {"title": 5.0, "creator": 4.0, "subject": 3.0, "meta": 1.5}
TEXT_WEIGHT = 1.0
EXACT_BOOST = 2.0
"""Weight of a match with the reader's own marks, on top of the folded match."""
FACET_SIZE = 30
PAGES_SEEN_PER_HIT = MAX_PAGES_PER_HIT
"""Page hits fetched per item of a results page (best first, over all its items at once):
the snippets come from the best, ``Hit.pages`` lists those that belong to the item."""
_T = TypeVar("_T")


def _analyzers() -> dict[str, tantivy.TextAnalyzer]:
    def chain(*filters: tantivy.Filter) -> tantivy.TextAnalyzer:
        builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        for token_filter in (tantivy.Filter.remove_long(80), *filters):
            builder = builder.filter(token_filter)
        return builder.build()

    # Folding before lowercasing, as analysis.fold does ("İ" folds to "I", then "i").
    return {EXACT: chain(tantivy.Filter.lowercase()),
            FOLDED: chain(tantivy.Filter.ascii_fold(), tantivy.Filter.lowercase())}


_QUERY_ANALYZERS = _analyzers()


def _add_text_pair(builder: tantivy.SchemaBuilder, name: str, stored: bool) -> None:
    # Phrases match on the folded field; the exact one only adds a bonus per word, so it
    # keeps no positions (a smaller index, faster to build).
    builder.add_text_field(name, stored=stored, tokenizer_name=EXACT, index_option="freq")
    builder.add_text_field(name + "_f", stored=False, tokenizer_name=FOLDED)


def _add_access_fields(builder: tantivy.SchemaBuilder) -> None:
    for name in ("find_principals", "read_principals"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("embargo_day", indexed=True, fast=True)


def _item_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("item_id", stored=True, indexed=True, fast=True)
    _add_text_pair(builder, "title", stored=True)
    _add_text_pair(builder, "creator", stored=True)
    for name in ("subject", "meta", "text"):
        _add_text_pair(builder, name, stored=False)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    builder.add_integer_field("newest", fast=True)
    builder.add_integer_field("oldest", fast=True)
    builder.add_text_field("title_sort", tokenizer_name="raw", fast=True)
    for facet in FACETS:
        builder.add_text_field("facet_" + facet, tokenizer_name="raw", fast=True,
                               index_option="basic")
    _add_access_fields(builder)
    return builder.build()


def _page_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("item_id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("number", stored=True, indexed=True, fast=True)
    _add_text_pair(builder, "text", stored=True)
    _add_access_fields(builder)
    return builder.build()


def _guarded(action: str, call: Callable[[], _T]) -> _T:
    """Run a tantivy call; its I/O and lock errors become SearchUnavailable."""
    try:
        return call()
    except (ValueError, OSError, RuntimeError) as exc:
        raise SearchUnavailable(f"search index: {action} failed: {exc}") from exc


class _Side:
    """One tantivy index (items or pages): its schema, analyzers and searcher."""

    def __init__(self, path: Path, schema: tantivy.Schema) -> None:
        _guarded(f"creating {path}", lambda: path.mkdir(parents=True, exist_ok=True))
        self.path = path
        self.schema = schema
        self.index = _guarded(f"opening {path}", lambda: tantivy.Index(schema, path=str(path)))
        for name, analyzer in _analyzers().items():
            self.index.register_tokenizer(name, analyzer)


    def searcher(self) -> tantivy.Searcher:
        return _guarded("reading", self.index.searcher)

    def writer(self, heap_bytes: int) -> tantivy.IndexWriter:
        """A writer, waiting a little while another process holds the index's lock."""
        for attempt in range(20):
            try:
                return self.index.writer(heap_size=heap_bytes, num_threads=1)
            except ValueError as exc:
                if "lock" not in str(exc).lower() or attempt == 19:
                    raise SearchUnavailable(f"search index {self.path} is busy: {exc}") from exc
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def term(self, field: str, value: object) -> Query:
        return Query.term_query(self.schema, field, value)

    def term_set(self, field: str, values: Iterable[object]) -> Query:
        """Any of ``values``: a plain OR of terms (tantivy's term-set query costs ~0.3 ms
        more on every search, whatever the index size)."""
        terms = [self.term(field, value) for value in values]
        if not terms:
            return Query.empty_query()
        return _any(*terms)


def _all(*clauses: Query) -> Query:
    return Query.boolean_query([(Occur.Must, clause) for clause in clauses])


def _any(*clauses: Query) -> Query:
    if len(clauses) == 1:
        return clauses[0]
    return Query.boolean_query([(Occur.Should, clause) for clause in clauses])


def _filter(query: Query) -> Query:
    """A clause that restricts without adding to the score."""
    return Query.const_score_query(query, 0.0)


class TantivySearch(SearchBackend):
    """The embedded backend: ``directory`` holds the two indexes (made when missing)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._check_version()
        self.items = _Side(self.directory / "items", _item_schema())
        self.pages = _Side(self.directory / "pages", _page_schema())

    def _check_version(self) -> None:
        marker = self.directory / "khoso-search-version"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                marker.write_text(SCHEMA_VERSION)
            found = marker.read_text().strip()
        except OSError as exc:
            raise SearchUnavailable(f"search index {self.directory}: {exc}") from exc
        if found != SCHEMA_VERSION:
            raise SearchUnavailable(f"search index {self.directory} has layout {found}, this "
                                    f"version needs {SCHEMA_VERSION}: rebuild the index")

    # Writing ------------------------------------------------------------------------------

    def index(self, item: ItemDocument, pages: Iterable[PageDocument]) -> None:
        self.index_many([(item, pages)], heap_bytes=30_000_000)

    def index_many(self, entries: Iterable[tuple[ItemDocument, Iterable[PageDocument]]],
                   heap_bytes: int = 200_000_000) -> int:
        count = 0
        with self._writers(heap_bytes) as (item_writer, page_writer):
            for item, pages in entries:
                page_list = list(pages)
                for writer in (item_writer, page_writer):
                    writer.delete_documents_by_term("item_id", item.item_id)
                # NFC once per page, for both documents.
                page_list = [replace(page, text=normalize(page.text)) for page in page_list]
                item_writer.add_document(_item_document(item, page_list))
                for page in page_list:
                    page_writer.add_document(_page_document(page))
                count += 1
        return count

    def delete(self, item_id: int) -> None:
        with self._writers(30_000_000) as writers:
            for writer in writers:
                writer.delete_documents_by_term("item_id", item_id)

    def clear(self) -> None:
        with self._writers(30_000_000) as writers:
            for writer in writers:
                writer.delete_all_documents()

    @contextlib.contextmanager
    def _writers(self, heap_bytes: int) -> Iterator[tuple[tantivy.IndexWriter, ...]]:
        """Item and page writers; pages commit first, so no item points to missing pages."""
        item_writer = self.items.writer(heap_bytes)
        try:
            page_writer = self.pages.writer(heap_bytes)
        except SearchUnavailable:
            item_writer.rollback()
            raise
        try:
            yield item_writer, page_writer
        except BaseException:
            page_writer.rollback()
            item_writer.rollback()
            raise
        for writer in (page_writer, item_writer):
            _guarded("commit", writer.commit)
            _guarded("merge", writer.wait_merging_threads)
        for side in (self.pages, self.items):
            _guarded("reload", side.index.reload)

    def destroy(self) -> None:
        """Delete the index directory (tests and rebuilds)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    # Reading ------------------------------------------------------------------------------

    def search(self, request: SearchRequest, access: AccessFilter) -> SearchResult:
        request = request.bounded()
        parsed = parse_query(request.query)
        builder = _QueryBuilder(self, access)
        filters = builder.facet_filters(request.filters)
        searcher = self.items.searcher()
        sort = effective_sort(request.sort, parsed)
        ranked = self._ranked(searcher, _all(builder.item_query(parsed), *filters.values()),
                              request, sort)
        hits = self._hits(searcher, ranked.hits, request, parsed, builder, sort)
        facets = (self._facets(searcher, builder.item_query(parsed, scoring=False), filters,
                               request) if request.with_facets else {})
        return SearchResult(ranked.count, tuple(hits), facets, request, parsed)

    @staticmethod
    def _ranked(searcher: tantivy.Searcher, query: Query, request: SearchRequest,
                sort: Sort) -> tantivy.SearchResult:
        order = {Sort.NEWEST: ("newest", tantivy.Order.Desc),
                 Sort.OLDEST: ("oldest", tantivy.Order.Asc),
                 Sort.TITLE: ("title_sort", tantivy.Order.Asc)}.get(sort)
        if order is None:
            return _guarded("search", lambda: searcher.search(
                query, request.per_page, offset=request.offset))
        return _guarded("search", lambda: searcher.search(
            query, request.per_page, offset=request.offset, order_by_field=order[0],
            order=order[1]))

    def _hits(self, searcher: tantivy.Searcher, ranked: list, request: SearchRequest,
              parsed: ParsedQuery, builder: _QueryBuilder, sort: Sort) -> list[Hit]:
        documents = [(score, searcher.doc(address)) for score, address in ranked]
        # One searcher for all the pages: its addresses are only valid with it.
        page_searcher = self.pages.searcher()
        page_queries = builder.page_queries(parsed) if request.with_snippets else []
        pages = self._pages_of(page_searcher, [document["item_id"][0] for _, document in
                                               documents], page_queries)
        highlighter = Highlighter(parsed)
        hits = []
        for score, document in documents:
            found = pages.get(document["item_id"][0], _ItemPages())
            hits.append(_hit(document, score if sort is Sort.RELEVANCE else 0.0, highlighter,
                             found, _snippets(page_searcher, found.best, highlighter)))
        return hits

    def _pages_of(self, searcher: tantivy.Searcher, item_ids: list[int],
                  page_queries: list[Query]) -> dict[int, _ItemPages]:
        """For all the items of a results page at once: how many of their pages match, and
        their best pages (all the words on a page, else any). One search usually sees every
        matching page; when it cannot, one aggregation counts them per item."""
        found: dict[int, _ItemPages] = {}
        for page_query in page_queries:
            wanted = [item_id for item_id in item_ids if item_id not in found]
            if not wanted:
                break
            query = _all(page_query, _filter(self.pages.term_set("item_id", wanted)))
            best = _guarded("search", lambda q=query, n=len(wanted): searcher.search(
                q, n * PAGES_SEEN_PER_HIT))
            addresses = [address for _, address in best.hits]
            if best.count > len(addresses):  # not all seen: count them per item
                counted = _guarded("search", lambda q=query, n=len(wanted): searcher.aggregate(
                    q, {"items": {"terms": {"field": "item_id", "size": n}}}))
                for bucket in counted["items"]["buckets"]:
                    found[int(bucket["key"])] = _ItemPages(bucket["doc_count"])
            _keep(searcher, addresses, found, counted=best.count > len(addresses))
            for item_id in wanted:  # the rare item whose pages all rank below the others'
                if item_id in found and not found[item_id].best:
                    alone = _all(page_query, _filter(self.pages.term("item_id", item_id)))
                    hits = _guarded("search", lambda q=alone: searcher.search(
                        q, PAGES_SEEN_PER_HIT, count=False)).hits
                    _keep(searcher, [address for _, address in hits], found)
        return found

    def _facets(self, searcher: tantivy.Searcher, base: Query, filters: dict[str, Query],
                request: SearchRequest) -> dict[str, tuple[FacetValue, ...]]:
        """Counts of distinct items per value; a facet in use is counted without its own
        filter, so that its other values stay visible (OR within a facet)."""
        facets: dict[str, tuple[FacetValue, ...]] = {}
        plain = [name for name in FACETS if name not in filters]
        groups = [(plain, list(filters.values()))] if plain else []
        groups += [([name], [query for other, query in filters.items() if other != name])
                   for name in filters]
        for names, clauses in groups:
            aggregation = {name: {"terms": _terms_request(name)} for name in names}
            counted = _guarded("facets", lambda a=aggregation, c=clauses:
                               searcher.aggregate(_all(base, *c), a))
            for name in names:
                selected = request.filters.get(name, frozenset())
                facets[name] = _facet_values(counted[name]["buckets"], selected)
        return {name: facets[name] for name in FACETS}

    def search_inside(self, item_id: int, query: str, access: AccessFilter,
                      limit: int = INSIDE_LIMIT) -> InsideResult:
        parsed = parse_query(query)
        builder = _QueryBuilder(self, access)
        searcher = self.pages.searcher()
        found = None
        for page_query in builder.page_queries(parsed):
            query = _all(page_query, _filter(self.pages.term("item_id", item_id)))
            found = _guarded("search", lambda q=query: searcher.search(
                q, max(1, limit), order_by_field="number", order=tantivy.Order.Asc))
            if found.count:
                break
        if found is None:
            return InsideResult(item_id, 0, (), parsed)
        highlighter = Highlighter(parsed)
        matches = []
        for _, address in found.hits:
            document = searcher.doc(address)
            matches.append(PageMatch(document["number"][0],
                                     highlighter.snippet(document.get_first("text") or "")))
        return InsideResult(item_id, found.count, tuple(matches), parsed)


@dataclass
class _ItemPages:
    """The matching pages of one item on the results page: how many, and the best found."""

    count: int = 0
    best: list[tuple[int, tantivy.DocAddress]] = field(default_factory=list)


def _keep(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress],
          found: dict[int, _ItemPages], counted: bool = True) -> None:
    """Hand page hits (best first) to their items; count them too unless ``counted``."""
    owners = searcher.fast_field_values("item_id", addresses)
    numbers = searcher.fast_field_values("number", addresses)
    for owner, number, address in zip(owners, numbers, addresses, strict=True):
        if not counted:
            found.setdefault(owner, _ItemPages()).count += 1
        if owner in found:
            found[owner].best.append((number, address))


def _hit(document: tantivy.Document, score: object, highlighter: Highlighter,
         pages: _ItemPages, snippets: tuple[Snippet, ...]) -> Hit:
    title = document.get_first("title") or ""
    return Hit(item_id=document["item_id"][0], score=float(score), title=title,
               title_html=highlighter.mark(title), creators=tuple(document.get_all("creator")),
               year=document.get_first("year"), snippets=snippets,
               pages=tuple(sorted(number for number, _ in pages.best[:MAX_PAGES_PER_HIT])),
               page_count=pages.count)


def _snippets(searcher: tantivy.Searcher, pages: list[tuple[int, tantivy.DocAddress]],
              highlighter: Highlighter) -> tuple[Snippet, ...]:
    """Snippets from the best pages (``pages`` come best first), at most MAX_SNIPPETS."""
    snippets = []
    for number, address in pages[:MAX_SNIPPETS + 2]:
        html = highlighter.snippet(searcher.doc(address).get_first("text") or "")
        if html:
            snippets.append(Snippet(number, html))
            if len(snippets) == MAX_SNIPPETS:
                break
    return tuple(snippets)


def _terms_request(facet: str) -> dict:
    terms: dict = {"field": "facet_" + facet, "size": FACET_SIZE}
    if facet == "decade":
        terms["order"] = {"_key": "asc"}
    return terms


def _facet_values(buckets: list[dict], selected: frozenset[str]) -> tuple[FacetValue, ...]:
    values = [FacetValue(str(bucket["key"]), int(bucket["doc_count"]),
                         str(bucket["key"]) in selected) for bucket in buckets]
    present = {value.value for value in values}
    values += [FacetValue(value, 0, True) for value in sorted(selected - present)]
    return tuple(values)


class _QueryBuilder:
    """Turns a parsed query and an access filter into tantivy queries."""

    def __init__(self, backend: TantivySearch, access: AccessFilter) -> None:
        self.items = backend.items
        self.pages = backend.pages
        self.access = access

    # Access -------------------------------------------------------------------------------

    def _findable(self, side: _Side) -> list[Query]:
        if self.access.bypass:
            return []
        return [_filter(side.term_set("find_principals", sorted(self.access.principals))),
                _filter(Query.range_query(side.schema, "embargo_day", tantivy.FieldType.Integer,
                                          upper_bound=self.access.today.toordinal()))]

    def _readable(self, side: _Side) -> Query | None:
        if self.access.bypass:
            return None
        return _filter(side.term_set("read_principals", sorted(self.access.principals)))

    def page_access(self) -> list[Query]:
        readable = self._readable(self.pages)
        return self._findable(self.pages) + ([readable] if readable else [])

    # Items --------------------------------------------------------------------------------

    def item_query(self, parsed: ParsedQuery, scoring: bool = True) -> Query:
        """Items matching ``parsed`` that the identity may find; ``scoring=False`` leaves out
        the clauses that only rank (exact-mark bonuses), for counting facets."""
        clauses = [(Occur.Must, _any(*(self._item_atom(atom, scoring) for atom in group)))
                   for group in parsed.required]
        clauses += [(Occur.MustNot, self._item_atom(atom, False)) for atom in parsed.excluded]
        if scoring and len(parsed.plain_words) > 1:
            clauses.append((Occur.Should, self._phrase_bonus(parsed.plain_words)))
        if not parsed.required:
            clauses.append((Occur.Must, Query.all_query()))
        clauses += [(Occur.Must, clause) for clause in self._findable(self.items)]
        return Query.boolean_query(clauses)

    def _phrase_bonus(self, words: tuple[Word, ...]) -> Query:
        """The typed words side by side in the title, creator or subject (no page text: a
        phrase over whole books would double the cost of every multi-word query)."""
        phrase = Phrase(words)
        return _any(*(_field_clause(self.items, name, phrase, METADATA_WEIGHTS[name] * 2)
                      for name in ("title", "creator", "subject")))

    def facet_filters(self, filters: dict[str, frozenset[str]]) -> dict[str, Query]:
        return {name: _filter(self.items.term_set("facet_" + name, sorted(values)))
                for name, values in filters.items()}

    def _item_atom(self, atom: Atom, scoring: bool) -> Query:
        if isinstance(atom, YearRange):
            return _filter(Query.range_query(self.items.schema, "year", tantivy.FieldType.Integer,
                                             lower_bound=atom.start, upper_bound=atom.end))
        names = [atom.field] if atom.field else list(METADATA_WEIGHTS)
        clauses = [_field_clause(self.items, name, atom, METADATA_WEIGHTS[name], scoring)
                   for name in names]
        if atom.field is None:
            text = _field_clause(self.items, "text", atom, TEXT_WEIGHT, scoring)
            readable = self._readable(self.items)
            clauses.append(_all(text, readable) if readable else text)
        return _any(*clauses)

    # Pages --------------------------------------------------------------------------------

    def page_queries(self, parsed: ParsedQuery) -> list[Query]:
        """Pages with all the words (when that differs) then with any, access applied;
        empty when only metadata fields were asked for."""
        strict = self.page_text_query(parsed, strict=True)
        if strict is None:
            return []
        access = self.page_access()
        queries = [_all(strict, *access)]
        if sum(len(group) for group in parsed.required) > 1:
            queries.append(_all(self.page_text_query(parsed, strict=False), *access))
        return queries

    def page_text_query(self, parsed: ParsedQuery, strict: bool) -> Query | None:
        """The page-text part of the query: None when only metadata fields were asked for."""
        clauses = []
        for group in parsed.required:
            text_atoms = [atom for atom in group
                          if isinstance(atom, Term | Phrase) and atom.field is None]
            if text_atoms:
                whole = strict and len(text_atoms) == len(group)
                clause = _any(*(_field_clause(self.pages, "text", atom, TEXT_WEIGHT)
                                for atom in text_atoms))
                clauses.append((Occur.Must if whole else Occur.Should, clause))
        if not clauses:
            return None
        return Query.boolean_query(clauses)


def _field_clause(side: _Side, name: str, atom: Term | Phrase, weight: float,
                  scoring: bool = True) -> Query:
    """Folded match, plus a bonus for each word found with the reader's own marks.

    The bonus is per word even in a phrase: the folded phrase already holds the words
    together, and a second phrase query (positions read twice) would double its cost.
    """
    folded_tokens, marked = _index_tokens(atom.text)
    folded = _tokens_query(side, name + "_f", folded_tokens)
    if not scoring:
        return folded
    if not marked:
        return Query.boost_query(folded, weight)
    bonus = [Query.boost_query(side.term(name, word), weight * EXACT_BOOST) for word in marked]
    return Query.boolean_query([(Occur.Must, Query.boost_query(folded, weight)),
                                *((Occur.Should, clause) for clause in bonus)])


@lru_cache(maxsize=1024)
def _index_tokens(typed: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(folded tokens, exact tokens that carry marks) of typed words, split by the index's own
    analyzers: Python and tantivy split some scripts (Khmer, Devanagari) differently."""
    folded = _QUERY_ANALYZERS[FOLDED].analyze(typed)
    exact = _QUERY_ANALYZERS[EXACT].analyze(typed)
    return tuple(folded), tuple(token for token in exact if token not in folded)


def _tokens_query(side: _Side, field: str, tokens: tuple[str, ...]) -> Query:
    if not tokens:
        return Query.empty_query()
    if len(tokens) == 1:
        return side.term(field, tokens[0])
    return Query.phrase_query(side.schema, field, list(tokens))


def _item_document(item: ItemDocument, pages: list[PageDocument]) -> tantivy.Document:
    document = tantivy.Document()
    document.add_integer("item_id", item.item_id)
    _add_pair(document, "title", [item.title])
    _add_pair(document, "creator", item.creators)
    _add_pair(document, "subject", item.subjects)
    _add_pair(document, "meta", [item.description, *item.other_metadata])
    # A page guarded differently from its item stays out of the item's text: it must not be
    # found under the item's (possibly wider) read principals.
    _add_pair(document, "text", [page.text for page in pages if item.same_access(page)],
              normalized=True)
    if item.year is not None:
        document.add_integer("year", item.year)
    document.add_integer("newest", item.year if item.year is not None else -1)
    document.add_integer("oldest", item.year if item.year is not None else 1_000_000)
    document.add_text("title_sort", vietnamese_sort_key(item.title))
    facet_values = {"collection": [item.collection], "type": [item.type],
                    "language": item.languages, "decade": [item.decade or ""],
                    "access": [item.access]}
    for facet, values in facet_values.items():
        for value in values:
            if value:
                document.add_text("facet_" + facet, value)
    _add_access(document, item)
    return document


def _page_document(page: PageDocument) -> tantivy.Document:
    document = tantivy.Document()
    document.add_integer("item_id", page.item_id)
    document.add_integer("number", page.number)
    _add_pair(document, "text", [page.text], normalized=True)
    _add_access(document, page)
    return document


def _add_pair(document: tantivy.Document, name: str, values: Iterable[str],
              normalized: bool = False) -> None:
    for value in values:
        if value:
            text = value if normalized else normalize(value)
            document.add_text(name, text)
            document.add_text(name + "_f", text)


def _add_access(document: tantivy.Document, source: ItemDocument | PageDocument) -> None:
    for principal in sorted(source.metadata_principals):
        document.add_text("find_principals", principal)
    for principal in sorted(source.view_principals):
        document.add_text("read_principals", principal)
    embargo = source.embargo_until.toordinal() if source.embargo_until else 0
    document.add_integer("embargo_day", embargo)
