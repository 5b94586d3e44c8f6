"""Shared search on PostgreSQL full text, for several web nodes: three tables in a schema of
their own (``khoso_search`` unless told otherwise), made by :meth:`PostgresSearch.ensure_schema`,
never by the application's migrations.

Tokens come from :mod:`repository.search.analysis`, not from PostgreSQL's parser: tsvectors
are written as literals (folded and exact lexemes with their positions) and tsqueries are built
from the parsed query. So this backend folds exactly like the embedded one and like the word
boxes — "đ" included — with no ``unaccent`` dictionary or text search configuration to install.

Tables: ``search_items`` (Dublin Core vectors weighted A title, B creator, C subject, D other;
facets; access), ``search_texts`` (the folded words of each item's pages, without positions, in
chunks of at most ``CHUNK_LEXEMES``: which items hold a word, answered by GIN with no recheck)
and ``search_pages`` (each page's vectors with positions, compressed inline so that checking a
phrase or ranking a page reads no TOAST table). How a query becomes SQL is in
:mod:`repository.search.postgres_query`.

Work per search is bounded by the number of items, not of pages: the matching items are found
once (a word costs one row per item), then counted, faceted and ranked — metadata rank plus how
much of each item's pages hold the words, both read from indexes; only a phrase reads page
vectors, and only the pages of the items on the results page are read for snippets and their
best pages.
"""

# SQL here is assembled from fixed fragments and a validated schema name only; every value
# (words, principals, dates, facet values) travels as a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from repository.search.analysis import analyze, normalize, vietnamese_sort_key
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
from repository.search.postgres_query import (
    TEXT_LEVELS,
    SqlQuery,
    atom_tsquery,
    exact_lexeme,
    level_lexeme,
    quoted,
)
from repository.search.query import ParsedQuery, Phrase, parse_query

LAYOUT_VERSION = 2
"""Bumped when the tables change: an older schema is dropped and made again (then reindex)."""
COMMON_PHRASE_PAGES = 3_000
CHUNK_LEXEMES = 20_000
FACET_SIZE = 30
STATEMENT_TIMEOUT_MS = 10_000
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_T = TypeVar("_T")
log = logging.getLogger(__name__)

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.search_layout (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.search_items (
    item_id bigint PRIMARY KEY,
    title text NOT NULL,
    creators text[] NOT NULL,
    year integer,
    title_sort text COLLATE "C" NOT NULL,
    collection text[] NOT NULL, type text[] NOT NULL, language text[] NOT NULL,
    decade text[] NOT NULL, access text[] NOT NULL,
    find_principals text[] NOT NULL, read_principals text[] NOT NULL, embargo_until date,
    meta_folded tsvector NOT NULL, meta_exact tsvector NOT NULL);
CREATE INDEX IF NOT EXISTS search_items_meta_folded ON {s}.search_items USING gin (meta_folded);
CREATE TABLE IF NOT EXISTS {s}.search_texts (
    item_id bigint NOT NULL REFERENCES {s}.search_items (item_id) ON DELETE CASCADE,
    chunk integer NOT NULL,
    words tsvector NOT NULL,
    PRIMARY KEY (item_id, chunk));
CREATE INDEX IF NOT EXISTS search_texts_words ON {s}.search_texts USING gin (words);
CREATE TABLE IF NOT EXISTS {s}.search_pages (
    item_id bigint NOT NULL REFERENCES {s}.search_items (item_id) ON DELETE CASCADE,
    number integer NOT NULL,
    text text NOT NULL,
    folded tsvector {compression} NOT NULL, exact tsvector NOT NULL,
    find_principals text[] NOT NULL, read_principals text[] NOT NULL, embargo_until date,
    PRIMARY KEY (item_id, number));
ALTER TABLE {s}.search_pages ALTER COLUMN folded SET STORAGE MAIN;
CREATE INDEX IF NOT EXISTS search_pages_folded ON {s}.search_pages USING gin (folded);
"""


def tsvector_literals(values: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """(folded, exact) tsvectors in PostgreSQL's input syntax from (text, weight letter) pairs.

    Positions run on across values with a gap, so a phrase never spans two values.
    """
    folded: dict[str, list[str]] = {}
    exact: dict[str, list[str]] = {}
    position = 0
    for text, weight in values:
        mark = "" if weight == "D" else weight
        for word in analyze(text):
            position += 1
            at = f"{min(position, 16383)}{mark}"
            for lexemes, lexeme in ((folded, word.folded), (exact, word.exact)):
                positions = lexemes.setdefault(lexeme, [])
                if len(positions) < 255:  # PostgreSQL keeps at most 256 positions per lexeme
                    positions.append(at)
        position += 1
    return _literal(folded), _literal(exact)


def _literal(lexemes: dict[str, list[str]]) -> str:
    return " ".join(f"{quoted(lexeme)}:{','.join(positions)}"
                    for lexeme, positions in lexemes.items())


def text_lexemes(texts: Sequence[str]) -> list[str]:
    """What ``search_texts`` holds for an item whose pages read ``texts``: each folded word;
    ``word#1``, ``word#2``, ``word#3`` when it is on at least 10 %, 25 %, 50 % of the pages
    (how much the item is about it); ``exact#x`` for each word with its marks. A lexeme
    with "#" is never a typed word: the analyzer splits on it."""
    on_pages: Counter[str] = Counter()
    marked: set[str] = set()
    for text in texts:
        words = analyze(text)
        on_pages.update({word.folded for word in words})
        marked.update(word.exact for word in words if word.marked)
    lexemes = list(on_pages)
    for word, pages in on_pages.items():
        lexemes += [level_lexeme(word, level) for level, share in enumerate(TEXT_LEVELS, 1)
                    if pages >= share * len(texts)]
    lexemes += [exact_lexeme(word) for word in marked]
    return sorted(lexemes)


def word_chunks(lexemes: list[str], limit: int = CHUNK_LEXEMES) -> list[str]:
    """``lexemes`` as tsvectors without positions, at most ``limit`` each (a tsvector holds at
    most 1 MB)."""
    return [" ".join(map(quoted, lexemes[start:start + limit]))
            for start in range(0, len(lexemes), limit)]


def _guarded(action: str, call: Callable[[], _T]) -> _T:
    """Run a database call; a connection or timeout failure becomes SearchUnavailable."""
    try:
        return call()
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        raise SearchUnavailable(f"search database: {action} failed: {exc.orig}") from exc


class PostgresSearch(SearchBackend):
    """The shared backend: ``url`` is a SQLAlchemy URL (``postgresql+psycopg://...``)."""

    def __init__(self, url: str, schema: str = "khoso_search") -> None:
        if not _SCHEMA_NAME.match(schema):
            raise SearchUnavailable(f"search schema name {schema!r} is not a plain identifier")
        self.schema = schema
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]  # the driver we ship
        try:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise SearchUnavailable(f"search database URL is not usable: {exc}") from exc
        self.ensure_schema()

    def ensure_schema(self) -> None:
        """Create the schema, tables and indexes when missing (safe on several nodes at once);
        a schema of an older layout is dropped first and must be filled again by a reindex."""
        def create() -> None:
            with self.engine.begin() as connection:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                                   {"name": "khoso-search-schema"})
                found = self._layout(connection)
                if found not in (None, LAYOUT_VERSION):
                    log.warning("search schema %s has layout %s, not %s: dropped; run "
                                "`khoso search reindex`", self.schema, found, LAYOUT_VERSION)
                    connection.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")
                connection.exec_driver_sql(_DDL.format(
                    s=self.schema, compression=_inline_compression(connection)))
                connection.exec_driver_sql(
                    f"INSERT INTO {self.schema}.search_layout SELECT {LAYOUT_VERSION} "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {self.schema}.search_layout)")
        _guarded("creating the schema", create)

    def _layout(self, connection: sa.Connection) -> int | None:
        """The layout of the schema there (0 when it predates versions), None when absent."""
        tables = connection.execute(sa.text(
            "SELECT to_regclass(:items) IS NOT NULL, to_regclass(:layout) IS NOT NULL"),
            {"items": f"{self.schema}.search_items",
             "layout": f"{self.schema}.search_layout"}).one()
        if not tables[1]:
            return 0 if tables[0] else None
        return connection.exec_driver_sql(
            f"SELECT max(version) FROM {self.schema}.search_layout").scalar_one_or_none()

    def close(self) -> None:
        self.engine.dispose()

    def destroy(self) -> None:
        """Drop the schema and everything in it (tests and rebuilds)."""
        _guarded("dropping the schema", lambda: self._execute(
            f"DROP SCHEMA IF EXISTS {self.schema} CASCADE", {}, write=True))
        self.engine.dispose()

    def _execute(self, sql: str, params: dict[str, Any], write: bool = False) -> list:
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            # The planner prices a sequential scan by the table's own pages, not its TOAST:
            # scanning every item's words costs far more than the index that names the items.
            # (And with that penalty on the plan's cost, JIT would compile every query.)
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL jit = off")
            result = connection.execute(sa.text(sql.replace("{s}", self.schema)), params)
            return [] if write else list(result)

    # Writing ------------------------------------------------------------------------------

    def index(self, item: ItemDocument, pages: Iterable[PageDocument]) -> None:
        self.index_many([(item, pages)])

    def index_many(self, entries: Iterable[tuple[ItemDocument, Iterable[PageDocument]]],
                   batch: int = 50) -> int:
        count, pending = 0, {}
        for item, pages in entries:
            pending[item.item_id] = (item, list(pages))  # the last version of an item wins
            if len(pending) == batch:
                count += self._write(list(pending.values()))
                pending = {}
        return count + (self._write(list(pending.values())) if pending else 0)

    def _write(self, entries: Sequence[tuple[ItemDocument, list[PageDocument]]]) -> int:
        items = [_item_row(item) for item, _ in entries]
        texts = [row for item, pages in entries for row in _text_rows(item, pages)]
        pages = [_page_row(page) for _, page_list in entries for page in page_list]

        def write() -> None:
            with self.engine.begin() as connection:
                connection.execute(sa.text(f"DELETE FROM {self.schema}.search_items "
                                           "WHERE item_id = ANY(:ids)"),
                                   {"ids": [row["item_id"] for row in items]})
                for sql, rows in ((_INSERT_ITEM, items), (_INSERT_TEXT, texts),
                                  (_INSERT_PAGE, pages)):
                    if rows:
                        connection.execute(sa.text(sql.replace("{s}", self.schema)), rows)
        _guarded("indexing", write)
        return len(entries)

    def delete(self, item_id: int) -> None:
        _guarded("deleting", lambda: self._execute(
            "DELETE FROM {s}.search_items WHERE item_id = :id", {"id": item_id}, write=True))

    def clear(self) -> None:
        _guarded("clearing", lambda: self._execute(
            "TRUNCATE {s}.search_pages, {s}.search_texts, {s}.search_items", {}, write=True))

    # Reading ------------------------------------------------------------------------------

    def search(self, request: SearchRequest, access: AccessFilter) -> SearchResult:
        request = request.bounded()
        parsed = parse_query(request.query)
        common = _guarded("searching", lambda: self._common_phrases(parsed))
        query = SqlQuery(parsed, access, common)
        sort = effective_sort(request.sort, parsed)
        sql, params = _results_statement(query, request, sort)
        rows = _guarded("searching", lambda: self._execute(sql, params))
        total = next((row.n for row in rows if row.kind == "total"), 0)
        ranked = sorted((row for row in rows if row.kind == "hit"), key=lambda row: row.n)
        pages = (_guarded("finding pages", lambda: self._pages_of(
            [row.item_id for row in ranked], query)) if request.with_snippets else {})
        highlighter = Highlighter(parsed)
        hits = [_hit(row, row.score if sort is Sort.RELEVANCE else 0.0, highlighter,
                     *pages.get(row.item_id, (0, []))) for row in ranked]
        counted: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
        for row in sorted((row for row in rows if row.kind == "facet"),
                          key=lambda row: (-row.n, row.value)):
            counted[row.name].append((row.value, row.n))
        facets = ({name: _facet_values(name, counted[name],
                                       request.filters.get(name, frozenset()))
                   for name in FACETS} if request.with_facets else {})
        return SearchResult(total, tuple(hits), facets, request, parsed)

    def _common_phrases(self, parsed: ParsedQuery) -> frozenset[Phrase]:
        """The phrases whose words share at least ``COMMON_PHRASE_PAGES`` pages (counted by
        the index alone, no page read): checked item by item rather than page by page."""
        common = set()
        for atom in parsed.text_atoms:
            if isinstance(atom, Phrase):
                found = self._execute(
                    "SELECT count(*) FROM (SELECT 1 FROM {s}.search_pages p "
                    "WHERE p.folded @@ CAST(:words AS tsquery) LIMIT :cap) pages",
                    {"words": atom_tsquery(atom, joiner=" & "), "cap": COMMON_PHRASE_PAGES})
                if found[0][0] >= COMMON_PHRASE_PAGES:
                    common.add(atom)
        return frozenset(common)

    def _pages_of(self, item_ids: list[int],
                  query: SqlQuery) -> dict[int, tuple[int, list[tuple[int, Any]]]]:
        """For the items of a results page at once: how many pages match (all the words,
        else any) and the best, with text for the best few only. Each item's pages are read
        through its key, not through the words' index (a common word is on every page)."""
        match = query.page_match(strict=False)
        if not item_ids or match is None:
            return {}
        rows = self._execute(f"""
            SELECT item_id, number, CASE WHEN place <= :snippets THEN text END AS text,
                   n_all, n_any FROM (
                SELECT p.item_id, p.number, p.text, p.has_all,
                       row_number() OVER (PARTITION BY p.item_id
                                          ORDER BY p.has_all DESC, p.rank DESC, p.number) AS place,
                       count(*) FILTER (WHERE p.has_all) OVER (PARTITION BY p.item_id) AS n_all,
                       count(*) OVER (PARTITION BY p.item_id) AS n_any
                FROM (SELECT p.item_id, p.number, p.text, {query.page_has_all()} AS has_all,
                             {query.page_rank()} AS rank
                      FROM (SELECT * FROM {{s}}.search_pages WHERE item_id = ANY(:ids)
                            OFFSET 0) p
                      WHERE {match}) p) ranked
            WHERE place <= :pages AND (has_all OR n_all = 0)
            ORDER BY item_id, place""",
            {**query.params, "ids": item_ids, "snippets": MAX_SNIPPETS + 1,
             "pages": MAX_PAGES_PER_HIT})
        found: dict[int, tuple[int, list[tuple[int, Any]]]] = {}
        for row in rows:
            _, pages = found.setdefault(row.item_id, (row.n_all or row.n_any, []))
            pages.append((row.number, row.text))
        return found

    def search_inside(self, item_id: int, query: str, access: AccessFilter,
                      limit: int = INSIDE_LIMIT) -> InsideResult:
        parsed = parse_query(query)
        sql_query = SqlQuery(parsed, access)
        for strict in (True, False):
            match = sql_query.page_match(strict)
            if match is None:
                break
            rows = _guarded("searching inside", lambda m=match: self._execute(
                "SELECT number, text, count(*) OVER () FROM (SELECT * FROM {s}.search_pages "
                f"WHERE item_id = :item OFFSET 0) p WHERE {m} ORDER BY number LIMIT :limit",
                {**sql_query.params, "item": item_id, "limit": max(1, limit)}))
            if rows:
                highlighter = Highlighter(parsed)
                pages = tuple(PageMatch(number, highlighter.snippet(text))
                              for number, text, _ in rows)
                return InsideResult(item_id, rows[0][2], pages, parsed)
        return InsideResult(item_id, 0, (), parsed)


def _results_statement(query: SqlQuery, request: SearchRequest,
                       sort: Sort) -> tuple[str, dict[str, Any]]:
    """One statement for a results page: the matching items are found once, then counted,
    faceted and ranked. Rows: ("hit", place n, item…), ("total", n), ("facet", name, value, n).
    """
    filtered = query.facet_filters(dict(request.filters), "m")
    parts = [f"""
        WITH matched AS MATERIALIZED (
            SELECT i.item_id, i.title, i.creators, i.year, i.title_sort, i.collection, i.type,
                   i.language, i.decade, i.access,
                   {query.meta_rank()} + {query.text_rank()} AS score
            FROM {{s}}.search_items i WHERE {query.items()}),
        filtered AS MATERIALIZED (SELECT * FROM matched m WHERE {filtered}),
        ranked AS ({_ranking(query, sort)})
        SELECT 'hit' AS kind, r.n, r.item_id, r.title, r.creators, r.year,
               CAST(r.score AS float8) AS score, NULL AS name, NULL AS value FROM ranked r
        UNION ALL SELECT 'total', count(*), NULL, NULL, NULL, NULL, NULL, NULL, NULL
                  FROM filtered"""]
    if request.with_facets:
        parts += [f"""
        UNION ALL SELECT 'facet', count(*), NULL, NULL, NULL, NULL, NULL, f.name, f.value
                  FROM matched m CROSS JOIN LATERAL ({unnested}) AS f(name, value)
                  WHERE {condition} GROUP BY f.name, f.value"""
                  for unnested, condition in _facet_groups(query, request)]
    params = {**query.params, "limit": request.per_page, "offset": request.offset}
    return "".join(parts), params


def _ranking(query: SqlQuery, sort: Sort) -> str:
    """The results page of ``filtered``, numbered ``n`` in order, with a ``score``."""
    if sort is not Sort.RELEVANCE:
        order = {Sort.TITLE: "m.title_sort, m.item_id",
                 Sort.NEWEST: "m.year DESC NULLS LAST, m.item_id",
                 Sort.OLDEST: "m.year ASC NULLS LAST, m.item_id"}[sort]
        return (f"SELECT row_number() OVER (ORDER BY {order}) AS n, m.* "
                f"FROM filtered m ORDER BY {order} LIMIT :limit OFFSET :offset")
    return ("SELECT row_number() OVER (ORDER BY m.score DESC, m.item_id) AS n, m.* "
            "FROM filtered m ORDER BY m.score DESC, m.item_id LIMIT :limit OFFSET :offset")


def _facet_groups(query: SqlQuery, request: SearchRequest) -> list[tuple[str, str]]:
    """(facet values to count, condition) pairs: a facet in use is counted without its own
    filter, so that its other values stay visible (OR within a facet)."""
    plain = [name for name in FACETS if name not in request.filters]
    groups = [(plain, dict(request.filters))] if plain else []
    groups += [([name], {other: values for other, values in request.filters.items()
                         if other != name}) for name in request.filters]
    return [(" UNION ALL ".join(f"SELECT '{name}', unnest(m.{name})" for name in names),
             query.facet_filters(filters, "m")) for names, filters in groups]


def _hit(row: Any, score: float, highlighter: Highlighter, count: int,
         pages: list[tuple[int, Any]]) -> Hit:
    snippets = []
    for number, text in pages:
        html = highlighter.snippet(text) if text is not None else None
        if html:
            snippets.append(Snippet(number, html))
    return Hit(item_id=row.item_id, score=float(score), title=row.title,
               title_html=highlighter.mark(row.title), creators=tuple(row.creators),
               year=row.year, snippets=tuple(snippets[:MAX_SNIPPETS]),
               pages=tuple(sorted(number for number, _ in pages)), page_count=count)


def _facet_values(name: str, counted: list[tuple[str, int]],
                  selected: frozenset[str]) -> tuple[FacetValue, ...]:
    if name == "decade":
        counted = sorted(counted)
    values = [FacetValue(value, count, value in selected) for value, count in
              counted[:FACET_SIZE]]
    present = {value.value for value in values}
    values += [FacetValue(value, 0, True) for value in sorted(selected - present)]
    return tuple(values)


def _inline_compression(connection: sa.Connection) -> str:
    """LZ4 for the page vectors when the server has it (faster to read back than pglz)."""
    has_lz4 = connection.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
        "WHERE name = 'default_toast_compression'").scalar()
    return "COMPRESSION lz4" if has_lz4 else ""


_INSERT_ITEM = """
INSERT INTO {s}.search_items (item_id, title, creators, year, title_sort, collection, type,
    language, decade, access, find_principals, read_principals, embargo_until, meta_folded,
    meta_exact)
VALUES (:item_id, :title, :creators, :year, :title_sort, :collection, :type, :language, :decade,
    :access, :find_principals, :read_principals, :embargo_until, CAST(:meta_folded AS tsvector),
    CAST(:meta_exact AS tsvector))"""

_INSERT_TEXT = """
INSERT INTO {s}.search_texts (item_id, chunk, words)
VALUES (:item_id, :chunk, CAST(:words AS tsvector))"""

_INSERT_PAGE = """
INSERT INTO {s}.search_pages (item_id, number, text, folded, exact, find_principals,
    read_principals, embargo_until)
VALUES (:item_id, :number, :text, CAST(:folded AS tsvector), CAST(:exact AS tsvector),
    :find_principals, :read_principals, :embargo_until)"""


def _item_row(item: ItemDocument) -> dict[str, Any]:
    metadata = [(item.title, "A"), *((creator, "B") for creator in item.creators),
                *((subject, "C") for subject in item.subjects), (item.description, "D"),
                *((value, "D") for value in item.other_metadata)]
    meta_folded, meta_exact = tsvector_literals(metadata)
    return {
        "item_id": item.item_id, "title": normalize(item.title),
        "creators": [normalize(creator) for creator in item.creators], "year": item.year,
        "title_sort": vietnamese_sort_key(item.title),
        "collection": [item.collection] if item.collection else [],
        "type": [item.type] if item.type else [], "language": list(item.languages),
        "decade": [item.decade] if item.decade else [],
        "access": [item.access] if item.access else [],
        "find_principals": sorted(item.metadata_principals),
        "read_principals": sorted(item.view_principals), "embargo_until": item.embargo_until,
        "meta_folded": meta_folded, "meta_exact": meta_exact,
    }


def _text_rows(item: ItemDocument, pages: list[PageDocument]) -> list[dict[str, Any]]:
    """The item's words, from its pages guarded exactly like the item: a page guarded
    otherwise must not be found under the item's (possibly wider) read principals."""
    lexemes = text_lexemes([page.text for page in pages if item.same_access(page)])
    return [{"item_id": item.item_id, "chunk": number, "words": words}
            for number, words in enumerate(word_chunks(lexemes))]


def _page_row(page: PageDocument) -> dict[str, Any]:
    text = normalize(page.text)
    folded, exact = tsvector_literals([(text, "D")])
    return {"item_id": page.item_id, "number": page.number, "text": text,
            "folded": folded, "exact": exact,
            "find_principals": sorted(page.metadata_principals),
            "read_principals": sorted(page.view_principals),
            "embargo_until": page.embargo_until}
