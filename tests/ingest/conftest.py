"""Fixtures for the ingest stages: page contexts in a fresh work directory, rendered pages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ingest.context import Options, PageContext
from tests.ingest.helpers import VIETNAMESE, render_page


@pytest.fixture
def page_context(tmp_path):
    """Build a context for ``source`` in a fresh work directory."""
    def build(source: Path, index: int = 0, kind: str = "", **options) -> PageContext:
        return PageContext(work_dir=tmp_path, source=source, page_index=index, kind=kind,
                           options=Options(**options))
    return build


@pytest.fixture(scope="session")
def vietnamese_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "trang.png"
    render_page(VIETNAMESE).save(path, dpi=(300, 300))
    return path


TALLY_KEY = pytest.StashKey[Counter]()
ORCHESTRATOR_TALLY_KEY = pytest.StashKey[Counter]()


def pytest_terminal_summary(terminalreporter, config) -> None:
    """The bad-input corpus's outcomes by error code, when that test ran."""
    for key, what in ((TALLY_KEY, "bad-input corpus"),
                      (ORCHESTRATOR_TALLY_KEY, "bad-input corpus through the orchestrator")):
        tally = config.stash.get(key, None)
        if tally:
            counted = ", ".join(f"{code}={count}" for code, count in tally.most_common())
            terminalreporter.write_line(f"{what} ({sum(tally.values())} files): {counted}")


# -- the orchestrator: an app, a runtime that runs tasks in this process, a collection ---------

class Station:
    """An app with a collection and a serial runtime: start a batch, run it, look at it."""

    def __init__(self, app, slug: str = "sach") -> None:
        from ingest.cli import app_runtime, app_settings
        from repository import collections
        from viewer.extensions import parts

        self.app, self.slug = app, slug
        with app.app_context():
            self.settings = app_settings()
            self.rt = app_runtime(self.settings)
            self.store = parts().store
            self.db = parts().db
            with self.db.session() as session:
                collections.create_collection(session, slug=slug, title="Sách cũ")

    def start(self, *paths: Path, manifest: Path | None = None, together: bool = False,
              **options) -> tuple[int, list]:
        from ingest import services
        from repository.collections import get_collection

        with self.app.app_context(), self.db.session() as session:
            batch, jobs = services.start_batch(
                session, get_collection(session, self.slug),
                services.BatchInput(list(paths), manifest, together),
                actor=None, options=self.settings.batch_options(self.slug, **options),
                work_root=self.settings.work_root, limits=self.settings.limits)
            return batch.id, jobs

    def run(self, jobs) -> int:
        from ingest.tasks import run_serially

        with self.app.app_context():
            return run_serially(self.rt, jobs)

    def ingest(self, *paths: Path, **kwargs) -> int:
        batch_id, jobs = self.start(*paths, **kwargs)
        self.run(jobs)
        return batch_id

    def session(self):
        return self.db.session()

    def summary(self, batch_id: int) -> dict:
        from ingest import services
        from repository.models import IngestBatch

        with self.session() as session:
            return services.summary(session.get(IngestBatch, batch_id))

    def object_keys(self) -> set[str]:
        return {info.key for info in self.store.list("items/")}

    def file_keys(self) -> list[str]:
        from sqlalchemy import select

        from repository.models import ItemFile

        with self.session() as session:
            return list(session.scalars(select(ItemFile.storage_key)))


def station_app(tmp_path: Path, database_url: str, **overrides):
    from tests.conftest import make_test_app

    config = {"INGEST_WORK_ROOT": str(tmp_path / "work"), "INGEST_RETRY_DELAY": 0,
              "INGEST_RETRIES": 2, "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"}
    return make_test_app(tmp_path, database_url, **{**config, **overrides})


@pytest.fixture
def station(tmp_path, database_url):
    app = station_app(tmp_path, database_url)
    yield Station(app)
    app.extensions["khoso"].db.dispose()


@pytest.fixture
def any_station(tmp_path, any_database_url):
    app = station_app(tmp_path, any_database_url)
    yield Station(app)
    app.extensions["khoso"].db.dispose()


@pytest.fixture(scope="session")
def small_page(tmp_path_factory) -> Path:
    """Two lines of Vietnamese at 200 dpi: enough for OCR to find words, quick to recognise."""
    path = tmp_path_factory.mktemp("small") / "trang-1.png"
    render_page(SHORT_TEXT, dpi=200).save(path, dpi=(200, 200))
    return path


SHORT_TEXT = "Thư viện tỉnh lưu giữ sách báo cũ.\nNăm 1945, tờ báo đầu tiên ra đời."
