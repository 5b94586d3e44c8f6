"""Shared fixtures: the app on a fresh database and object store, a client and a CLI runner."""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url

from repository import accounts, migrate
from repository.db import Database
from repository.models import Base
from tests.backends import POSTGRES_URL, service_missing
from viewer import create_app

BACKEND_MARKERS = ("postgres", "s3", "redis", "browser")
_backend_counts: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch) -> None:
    """Argon2 at its real cost takes a quarter second a hash; tests need many."""
    monkeypatch.setattr(accounts, "DEFAULT_HASHER",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A database migrated once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "khoso.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """A database of its own on the PostgreSQL server, migrated once, dropped at the end."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"khoso_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        service_missing("PostgreSQL", f"cannot connect to {POSTGRES_URL} ({exc.orig})")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    sa.create_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database_url(request, tmp_path) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return _database_url(request, request.param, tmp_path)


@pytest.fixture
def database_url(request, tmp_path) -> str:
    return _database_url(request, "sqlite", tmp_path)


def _database_url(request, backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        path = tmp_path / "khoso.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_server_url")
    _empty_tables(url)
    return url


def _empty_tables(url: str) -> None:
    engine = sa.create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def make_test_app(tmp_path: Path, database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "STORAGE_URL": f"file://{tmp_path / 'objects'}",
        "SEARCH_URL": f"tantivy://{tmp_path / 'index'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "ADMIN_PASSWORD": "admin-password-for-tests",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture
def app(tmp_path, database_url):
    application = make_test_app(tmp_path, database_url)
    yield application
    application.extensions["khoso"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        item.user_properties.append(
            ("backends", [name for name in BACKEND_MARKERS if item.get_closest_marker(name)]))


def pytest_runtest_logreport(report) -> None:
    if report.when != "call" or report.skipped:
        return
    backends = dict(report.user_properties).get("backends") or ["embedded"]
    for backend in backends:
        _backend_counts[backend] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    if _backend_counts:
        counted = ", ".join(f"{name}={count}" for name, count in sorted(_backend_counts.items()))
        terminalreporter.write_line(f"tests run per backend: {counted}")
