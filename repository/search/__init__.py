"""Full-text search of items and pages: Vietnamese analysis, a forgiving query language,
access filtered inside the engine, and two backends behind one interface.

``open_search(url)`` is the one place that picks a backend: ``tantivy:///abs/index/dir`` for
the embedded index, ``postgresql+psycopg://user@host/db`` for the shared one (its tables in the
schema ``khoso_search``, or the one named by ``?search_schema=name``).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from repository.search.backend import (
    FACETS,
    FacetValue,
    Hit,
    InsideResult,
    PageMatch,
    SearchBackend,
    SearchError,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
    Snippet,
    Sort,
)
from repository.search.documents import ItemDocument, PageDocument
from repository.search.filters import AccessFilter
from repository.search.highlight import match_word_boxes
from repository.search.query import ParsedQuery, QueryNote, parse_query

__all__ = [
    "FACETS", "AccessFilter", "FacetValue", "Hit", "InsideResult", "ItemDocument", "PageDocument",
    "PageMatch", "ParsedQuery", "QueryNote", "SearchBackend", "SearchError", "SearchRequest",
    "SearchResult", "SearchUnavailable", "Snippet", "Sort", "match_word_boxes", "open_search",
    "parse_query",
]


def open_search(url: str) -> SearchBackend:
    """The backend that ``url`` names; SearchUnavailable when it cannot be opened."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "tantivy":
        from repository.search.tantivy_backend import TantivySearch

        path = parts.path
        if parts.netloc or not path.startswith("/"):
            raise SearchUnavailable(f"search URL {url!r} needs an absolute path: "
                                    "tantivy:///path/to/index")
        return TantivySearch(path)
    if scheme.startswith("postgresql"):
        from repository.search.postgres_backend import PostgresSearch

        query = parse_qs(parts.query)
        schema = query.pop("search_schema", ["khoso_search"])[-1]
        rest = urlencode(query, doseq=True)
        return PostgresSearch(urlunsplit(parts._replace(query=rest)), schema=schema)
    raise SearchUnavailable(f"search URL {url!r}: unknown scheme {scheme!r} "
                            "(use tantivy:///dir or postgresql+psycopg://...)")

