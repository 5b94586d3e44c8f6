"""The API tests' app: the API and export blueprints registered and a small library loaded.

The library is built once per session (database, objects, search index) and copied for each
test, so that a test may change it freely without paying for building it again."""

from __future__ import annotations

import copy
import shutil

import pytest
from argon2 import PasswordHasher

from repository import accounts
from tests.api.library import build_library, register_blueprints
from tests.conftest import make_test_app

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch) -> None:
    monkeypatch.setattr(accounts, "DEFAULT_HASHER", CHEAP_HASHER)


@pytest.fixture(scope="session")
def library_template(tmp_path_factory, sqlite_template):
    root = tmp_path_factory.mktemp("api-library")
    shutil.copy(sqlite_template, root / "khoso.sqlite3")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "DEFAULT_HASHER", CHEAP_HASHER)
        application = register_blueprints(make_test_app(root, _url(root)))
        library = build_library(application, root / "sources")
    khoso = application.extensions["khoso"]
    khoso.search().close()
    khoso.db.dispose()
    return root, library


def _url(root) -> str:
    return f"sqlite:///{root / 'khoso.sqlite3'}"


@pytest.fixture
def app(tmp_path, library_template):
    root, _ = library_template
    for name in ("objects", "index"):
        shutil.copytree(root / name, tmp_path / name)
    shutil.copy(root / "khoso.sqlite3", tmp_path / "khoso.sqlite3")
    application = register_blueprints(make_test_app(tmp_path, _url(tmp_path)))
    yield application
    application.extensions["khoso"].db.dispose()


@pytest.fixture
def library(app, library_template):
    return copy.deepcopy(library_template[1])
