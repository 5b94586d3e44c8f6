"""Backends for the search suite: every test that takes ``loaded`` or ``backend`` runs on the
embedded tantivy index and on PostgreSQL (skipped when the server is missing, failed under CI)."""

from __future__ import annotations

import uuid

import pytest

from repository.search import SearchUnavailable
from repository.search.tantivy_backend import TantivySearch
from tests.backends import POSTGRES_URL, service_missing
from tests.search.corpus import collection

BACKENDS = ["tantivy", pytest.param("postgres", marks=pytest.mark.postgres)]


def open_backend(kind: str, directory):
    if kind == "tantivy":
        return TantivySearch(directory / "index")
    from repository.search.postgres_backend import PostgresSearch

    try:
        return PostgresSearch(POSTGRES_URL, schema=f"search_test_{uuid.uuid4().hex[:10]}")
    except SearchUnavailable as exc:
        service_missing("PostgreSQL", str(exc))


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, tmp_path_factory):
    """A backend holding the whole test collection; tests must not write to it."""
    backend = open_backend(request.param, tmp_path_factory.mktemp("search"))
    backend.index_many(collection())
    yield backend
    backend.destroy()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    """An empty backend of each kind, for tests that write."""
    opened = open_backend(request.param, tmp_path)
    yield opened
    opened.destroy()
