"""Shared search on PostgreSQL full text, for several web nodes: two tables in a schema of
their own (``khoso_search`` unless told otherwise), made by :meth:`PostgresSearch.ensure_schema`,
never by the application's migrations.

Tokens come from :mod:`repository.search.analysis`, not from PostgreSQL's parser: tsvectors
are written as literals (folded and exact lexemes with their positions) and tsqueries are built
from the parsed query. So this backend folds exactly like the embedded one and like the word
boxes — "đ" included — with no ``unaccent`` dictionary or text search configuration to install.

Matching follows the embedded backend: each query word must be in the item's metadata (GIN on
a weighted tsvector: A title, B creator, C subject, D other) or on a page the reader may read
(GIN on the page's tsvector, positions per page so phrases stay within a page and no book hits
the tsvector's size or position limits). The access filter is part of the WHERE clause.
Ranking is bounded: metadata rank for every match, then the best page's rank only for the
first ``CANDIDATES`` items by metadata rank (or as deep as the page asked for).
"""

# SQL here is assembled from fixed fragments and a validated schema name only; every value
# (words, principals, dates, facet values) travels as a bind parameter.
# ruff: noqa: S608

from __future__ import annotations

import re
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
from repository.search.query import Atom, ParsedQuery, Phrase, Term, YearRange, parse_query

CANDIDATES = 100
FACET_SIZE = 30
FIELD_WEIGHTS = {"title": "A", "creator": "B", "subject": "C"}
STATEMENT_TIMEOUT_MS = 10_000
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_T = TypeVar("_T")

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
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
CREATE TABLE IF NOT EXISTS {s}.search_pages (
    item_id bigint NOT NULL REFERENCES {s}.search_items (item_id) ON DELETE CASCADE,
    number integer NOT NULL,
    text text NOT NULL,
    folded tsvector NOT NULL, exact tsvector NOT NULL,
    find_principals text[] NOT NULL, read_principals text[] NOT NULL, embargo_until date,
    PRIMARY KEY (item_id, number));
CREATE INDEX IF NOT EXISTS search_pages_folded ON {s}.search_pages USING gin (folded);
"""


def tsvector_literal(values: Iterable[tuple[str, str]], exact: bool) -> str:
    """A tsvector in PostgreSQL's input syntax from (text, weight letter) pairs.

    Positions run on across values with a gap, so a phrase never spans two values.
    """
    lexemes: dict[str, list[str]] = {}
    position = 0
    for text, weight in values:
        for word in analyze(text):
            position += 1
            positions = lexemes.setdefault(word.exact if exact else word.folded, [])
            if len(positions) < 255:  # PostgreSQL keeps at most 256 positions per lexeme
                positions.append(f"{min(position, 16383)}{weight if weight != 'D' else ''}")
        position += 1
    return " ".join(f"{_quoted(lexeme)}:{','.join(positions)}"
                    for lexeme, positions in lexemes.items())


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _atom_tsquery(atom: Term | Phrase, exact: bool = False) -> str:
    words = (atom.word,) if isinstance(atom, Term) else atom.words
    weight = ":" + FIELD_WEIGHTS[atom.field] if atom.field in FIELD_WEIGHTS else ""
    return "(" + " <-> ".join(_quoted(word.exact if exact else word.folded) + weight
                              for word in words) + ")"


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
        """Create the schema, tables and indexes when missing (safe on several nodes at once)."""
        def create() -> None:
            with self.engine.begin() as connection:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                                   {"name": "khoso-search-schema"})
                connection.exec_driver_sql(_DDL.format(s=self.schema))
        _guarded("creating the schema", create)

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
        pages = [_page_row(page) for _, page_list in entries for page in page_list]

        def write() -> None:
            with self.engine.begin() as connection:
                connection.execute(sa.text(f"DELETE FROM {self.schema}.search_items "
                                           "WHERE item_id = ANY(:ids)"),
                                   {"ids": [row["item_id"] for row in items]})
                connection.execute(sa.text(_INSERT_ITEM.replace("{s}", self.schema)), items)
                if pages:
                    connection.execute(sa.text(_INSERT_PAGE.replace("{s}", self.schema)), pages)
        _guarded("indexing", write)
        return len(entries)

    def delete(self, item_id: int) -> None:
        _guarded("deleting", lambda: self._execute(
            "DELETE FROM {s}.search_items WHERE item_id = :id", {"id": item_id}, write=True))

    def clear(self) -> None:
        _guarded("clearing", lambda: self._execute(
            "TRUNCATE {s}.search_pages, {s}.search_items", {}, write=True))

    # Reading ------------------------------------------------------------------------------

    def search(self, request: SearchRequest, access: AccessFilter) -> SearchResult:
        request = request.bounded()
        parsed = parse_query(request.query)
        where = _Where(parsed, access)
        matched = where.items(request.filters)
        sort = effective_sort(request.sort, parsed)
        total = _guarded("counting", lambda: self._execute(
            f"SELECT count(*) FROM {{s}}.search_items i WHERE {matched}", where.params))[0][0]
        ranked = _guarded("searching", lambda: self._ranked(where, matched, request, sort))
        highlighter = Highlighter(parsed)
        hits = [self._hit(row, score, highlighter, where, request.with_snippets)
                for row, score in ranked]
        facets = (self._facets(where, request) if request.with_facets else {})
        return SearchResult(total, tuple(hits), facets, request, parsed)

    def _ranked(self, where: _Where, matched: str, request: SearchRequest,
                sort: Sort) -> list[tuple[Any, float]]:
        params = {**where.params, "limit": request.per_page, "offset": request.offset}
        columns = "i.item_id, i.title, i.creators, i.year"
        if sort is not Sort.RELEVANCE:
            order = {Sort.TITLE: "i.title_sort, i.item_id",
                     Sort.NEWEST: "i.year DESC NULLS LAST, i.item_id",
                     Sort.OLDEST: "i.year ASC NULLS LAST, i.item_id"}[sort]
            rows = self._execute(f"SELECT {columns} FROM {{s}}.search_items i WHERE {matched} "
                                 f"ORDER BY {order} LIMIT :limit OFFSET :offset", params)
            return [(row, 0.0) for row in rows]
        params["candidates"] = max(CANDIDATES, request.offset + request.per_page)
        page_match = where.page_match(strict=False)
        page_rank = "0" if page_match is None else f"""(
                SELECT max({where.page_rank()}) FROM {{s}}.search_pages p
                WHERE p.item_id = c.item_id AND {page_match})"""
        rows = self._execute(f"""
            WITH candidates AS (
                SELECT {columns}, {where.meta_rank()} AS meta_rank
                FROM {{s}}.search_items i WHERE {matched}
                ORDER BY meta_rank DESC, i.item_id LIMIT :candidates)
            SELECT c.item_id, c.title, c.creators, c.year,
                   c.meta_rank + COALESCE({page_rank}, 0) AS score
            FROM candidates c ORDER BY score DESC, c.item_id LIMIT :limit OFFSET :offset
            """, params)
        return [(row, float(row.score)) for row in rows]

    def _hit(self, row: Any, score: float, highlighter: Highlighter, where: _Where,
             with_snippets: bool) -> Hit:
        count, pages = (self._item_pages(row.item_id, where) if with_snippets else (0, []))
        snippets = []
        for number, text in pages:
            html = highlighter.snippet(text) if text is not None else None
            if html:
                snippets.append(Snippet(number, html))
        return Hit(item_id=row.item_id, score=score, title=row.title,
                   title_html=highlighter.mark(row.title), creators=tuple(row.creators),
                   year=row.year, snippets=tuple(snippets[:MAX_SNIPPETS]),
                   pages=tuple(sorted(number for number, _ in pages)), page_count=count)

    def _item_pages(self, item_id: int, where: _Where) -> tuple[int, list[tuple[int, Any]]]:
        """How many pages match (all the words, else any) and the best, with text for the
        best few only."""
        for strict in (True, False):
            match = where.page_match(strict)
            if match is None:
                return 0, []
            rows = _guarded("finding pages", lambda m=match: self._execute(f"""
                SELECT number, CASE WHEN row_number() OVER w <= :snippets THEN text END,
                       count(*) OVER ()
                FROM {{s}}.search_pages p WHERE p.item_id = :item AND {m}
                WINDOW w AS (ORDER BY {where.page_rank()} DESC, number)
                ORDER BY {where.page_rank()} DESC, number LIMIT :pages""",
                {**where.params, "item": item_id, "snippets": MAX_SNIPPETS + 1,
                 "pages": MAX_PAGES_PER_HIT}))
            if rows:
                return rows[0][2], [(number, text) for number, text, _ in rows]
        return 0, []

    def _facets(self, where: _Where, request: SearchRequest) -> dict[str, tuple[FacetValue,
                                                                                 ...]]:
        """Counts of distinct items per value; a facet in use is counted without its own
        filter (OR within a facet)."""
        counted: dict[str, list[tuple[str, int]]] = {name: [] for name in FACETS}
        plain = [name for name in FACETS if name not in request.filters]
        groups = [(plain, dict(request.filters))] if plain else []
        groups += [([name], {other: values for other, values in request.filters.items()
                             if other != name}) for name in request.filters]
        for names, filters in groups:
            unnested = " UNION ALL ".join(f"SELECT '{name}', unnest(i.{name})" for name in names)
            rows = _guarded("counting facets", lambda u=unnested, f=filters: self._execute(
                f"SELECT f.name, f.value, count(*) FROM {{s}}.search_items i "
                f"CROSS JOIN LATERAL ({u}) AS f(name, value) WHERE {where.items(f)} "
                "GROUP BY f.name, f.value ORDER BY count(*) DESC, f.value", where.params))
            for name, value, count in rows:
                counted[name].append((value, count))
        return {name: _facet_values(name, counted[name], request.filters.get(name, frozenset()))
                for name in FACETS}

    def search_inside(self, item_id: int, query: str, access: AccessFilter,
                      limit: int = INSIDE_LIMIT) -> InsideResult:
        parsed = parse_query(query)
        where = _Where(parsed, access)
        for strict in (True, False):
            match = where.page_match(strict)
            if match is None:
                break
            rows = _guarded("searching inside", lambda m=match: self._execute(
                f"SELECT number, text, count(*) OVER () FROM {{s}}.search_pages p "
                f"WHERE p.item_id = :item AND {m} ORDER BY number LIMIT :limit",
                {**where.params, "item": item_id, "limit": max(1, limit)}))
            if rows:
                highlighter = Highlighter(parsed)
                pages = tuple(PageMatch(number, highlighter.snippet(text))
                              for number, text, _ in rows)
                return InsideResult(item_id, rows[0][2], pages, parsed)
        return InsideResult(item_id, 0, (), parsed)


def _facet_values(name: str, counted: list[tuple[str, int]],
                  selected: frozenset[str]) -> tuple[FacetValue, ...]:
    if name == "decade":
        counted = sorted(counted)
    values = [FacetValue(value, count, value in selected) for value, count in
              counted[:FACET_SIZE]]
    present = {value.value for value in values}
    values += [FacetValue(value, 0, True) for value in sorted(selected - present)]
    return tuple(values)


class _Where:
    """SQL conditions for one parsed query and one access filter, with their parameters."""

    def __init__(self, parsed: ParsedQuery, access: AccessFilter) -> None:
        self.parsed = parsed
        self.access = access
        self.params: dict[str, Any] = {"principals": sorted(access.principals),
                                       "today": access.today}
        positive = [atom for group in parsed.required for atom in group
                    if isinstance(atom, Term | Phrase)]
        marked = [atom for atom in positive if any(
            word.marked for word in ((atom.word,) if isinstance(atom, Term) else atom.words))]
        # Ranking counts every word; page text matches only the words not limited to a field.
        self.rank_query = self._param(" | ".join(map(_atom_tsquery, positive)) or None)
        self.exact_query = self._param(
            " | ".join(_atom_tsquery(atom, exact=True) for atom in marked) or None)
        self.any_query = self._param(" | ".join(map(_atom_tsquery, parsed.text_atoms)) or None)
        # The typed words side by side in title, creator or subject rank higher.
        self.phrase_query = self._param(" <-> ".join(
            _quoted(word.folded) + ":ABC" for word in parsed.plain_words) or None
            if len(parsed.plain_words) > 1 else None)

    def _param(self, value: Any) -> str | None:
        if value is None:
            return None
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    # Items --------------------------------------------------------------------------------

    def items(self, filters: dict[str, frozenset[str]]) -> str:
        conditions = [self._required(group) for group in self.parsed.required]
        conditions += [f"NOT {self._atom(atom)}" for atom in self.parsed.excluded]
        conditions += [f"i.{name} && {self._param(sorted(values))}"
                       for name, values in filters.items() if name in FACETS]
        if not self.access.bypass:
            conditions.append("i.find_principals && :principals AND "
                              "(i.embargo_until IS NULL OR i.embargo_until <= :today)")
        return " AND ".join(f"({condition})" for condition in conditions) or "TRUE"

    def _required(self, group: tuple[Atom, ...]) -> str:
        return " OR ".join(self._atom(atom) for atom in group)

    def _atom(self, atom: Atom) -> str:
        if isinstance(atom, YearRange):
            low = -1_000_000 if atom.start is None else atom.start
            high = 1_000_000 if atom.end is None else atom.end
            return f"(i.year BETWEEN {int(low)} AND {int(high)})"
        query = self._param(_atom_tsquery(atom))
        in_metadata = f"i.meta_folded @@ CAST({query} AS tsquery)"
        if atom.field is not None:
            return f"({in_metadata})"
        # An uncorrelated IN: PostgreSQL hashes the matching items once.
        return (f"({in_metadata} OR i.item_id IN (SELECT p.item_id FROM {{s}}.search_pages p "
                f"WHERE p.folded @@ CAST({query} AS tsquery) AND {self.page_access()}))")

    def meta_rank(self) -> str:
        if self.rank_query is None:
            return "0"
        rank = f"4 * ts_rank(i.meta_folded, CAST({self.rank_query} AS tsquery))"
        if self.exact_query:
            rank += f" + 8 * ts_rank(i.meta_exact, CAST({self.exact_query} AS tsquery))"
        if self.phrase_query:
            rank += f" + 8 * ts_rank(i.meta_folded, CAST({self.phrase_query} AS tsquery))"
        return rank

    # Pages --------------------------------------------------------------------------------

    def page_access(self) -> str:
        if self.access.bypass:
            return "TRUE"
        return ("p.find_principals && :principals AND p.read_principals && :principals AND "
                "(p.embargo_until IS NULL OR p.embargo_until <= :today)")

    def page_match(self, strict: bool) -> str | None:
        """Pages with all the words (``strict``) or any; None when no word is for page text."""
        if self.any_query is None:
            return None
        query = self.any_query
        if strict:
            groups = [[atom for atom in group if isinstance(atom, Term | Phrase)
                       and atom.field is None] for group in self.parsed.required]
            whole = [group for group, original in zip(groups, self.parsed.required, strict=True)
                     if group and len(group) == len(original)]
            if whole:
                query = self._param(" & ".join(
                    "(" + " | ".join(map(_atom_tsquery, group)) + ")" for group in whole))
        return f"p.folded @@ CAST({query} AS tsquery) AND {self.page_access()}"

    def page_rank(self) -> str:
        rank = f"ts_rank_cd(p.folded, CAST({self.any_query} AS tsquery), 2)"
        if self.exact_query:
            rank += f" + 2 * ts_rank(p.exact, CAST({self.exact_query} AS tsquery))"
        return rank


_INSERT_ITEM = """
INSERT INTO {s}.search_items (item_id, title, creators, year, title_sort, collection, type,
    language, decade, access, find_principals, read_principals, embargo_until, meta_folded,
    meta_exact)
VALUES (:item_id, :title, :creators, :year, :title_sort, :collection, :type, :language, :decade,
    :access, :find_principals, :read_principals, :embargo_until, CAST(:meta_folded AS tsvector),
    CAST(:meta_exact AS tsvector))"""

_INSERT_PAGE = """
INSERT INTO {s}.search_pages (item_id, number, text, folded, exact, find_principals,
    read_principals, embargo_until)
VALUES (:item_id, :number, :text, CAST(:folded AS tsvector), CAST(:exact AS tsvector),
    :find_principals, :read_principals, :embargo_until)"""


def _item_row(item: ItemDocument) -> dict[str, Any]:
    metadata = [(item.title, "A"), *((creator, "B") for creator in item.creators),
                *((subject, "C") for subject in item.subjects), (item.description, "D"),
                *((value, "D") for value in item.other_metadata)]
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
        "meta_folded": tsvector_literal(metadata, exact=False),
        "meta_exact": tsvector_literal(metadata, exact=True),
    }


def _page_row(page: PageDocument) -> dict[str, Any]:
    text = normalize(page.text)
    return {"item_id": page.item_id, "number": page.number, "text": text,
            "folded": tsvector_literal([(text, "D")], exact=False),
            "exact": tsvector_literal([(text, "D")], exact=True),
            "find_principals": sorted(page.metadata_principals),
            "read_principals": sorted(page.view_principals),
            "embargo_until": page.embargo_until}
