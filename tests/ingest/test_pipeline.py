"""The orchestrator: one page through the stages, items from their pages, and the task rows that
make every page happen exactly once, with no stray objects, whatever fails or crashes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from ingest import pipeline, results, services, tasks, work
from ingest.context import Options, PageContext
from ingest.errors import CorruptFile
from ingest.limits import Limits
from ingest.ocr import worker_engine
from ingest.pdf import raster_pdf
from repository.models import (
    BatchStatus,
    FileRole,
    IngestBatch,
    IngestTask,
    Item,
    ItemFile,
    ItemStatus,
    Page,
    TaskState,
)
from tests.ingest.helpers import BAD

CRAZYONES = BAD / "pdf/pypdf/crazyones.pdf"


class NoOcr:
    name = "spy"

    def recognize(self, *args, **kwargs):
        raise AssertionError("OCR must not run on this page")


def scanned_pdf(image: Path, target: Path) -> Path:
    with Image.open(image) as page:
        target.write_bytes(raster_pdf(page.convert("L"), 200, 75))
    return target


def context(tmp_path: Path, source: Path, kind: str) -> PageContext:
    work_dir = tmp_path / "pages"
    work_dir.mkdir(exist_ok=True)
    return PageContext(work_dir=work_dir, source=source, kind=kind, options=Options(dpi=200))


# -- one page, no database ---------------------------------------------------------------------

def test_a_scanned_page_is_recognised_and_gets_a_text_layer(tmp_path, small_page):
    outcome = pipeline.process_page(context(tmp_path, small_page, "png"), worker_engine())
    assert outcome.text_source == "ocr" and "viện" in outcome.text
    assert outcome.hocr is not None and outcome.hocr.exists()
    assert outcome.confidence and outcome.confidence > 50
    assert "viện" in PdfReader(outcome.page_pdf).pages[0].extract_text()
    with Image.open(outcome.thumbnail) as thumbnail:
        assert max(thumbnail.size) <= 300


def test_a_born_digital_pdf_keeps_its_text_and_skips_ocr(tmp_path):
    outcome = pipeline.process_page(context(tmp_path, CRAZYONES, "pdf"), NoOcr())
    assert outcome.text_source == "pdf:text" and "crazy ones" in outcome.text
    assert outcome.hocr is None and outcome.master.exists()


def test_a_scanned_pdf_page_is_recognised(tmp_path, small_page):
    source = scanned_pdf(small_page, tmp_path / "scan.pdf")
    outcome = pipeline.process_page(context(tmp_path, source, "pdf"), worker_engine())
    assert outcome.text_source == "ocr" and "viện" in outcome.text


def test_without_an_engine_there_is_no_ocr(tmp_path, small_page):
    outcome = pipeline.process_page(context(tmp_path, small_page, "png"), None)
    assert (outcome.text, outcome.text_source, outcome.hocr) == ("", "none", None)


def test_an_item_is_assembled_and_described(tmp_path):
    pages = [pipeline.process_page(context(tmp_path / str(n), CRAZYONES, "pdf"), NoOcr())
             for n in (1, 2) if (tmp_path / str(n)).mkdir() is None]
    outcome = pipeline.finish_item(pipeline.ItemWork(
        tmp_path, "Crazy ones", pipeline.source_info(CRAZYONES, Limits()),
        [page.page_pdf for page in pages],
        [page.text for page in pages], "pdf:text"))
    assert len(PdfReader(outcome.document).pages) == 2
    assert {"element": "format.extent", "value": "1 trang", "source": "file"} in \
        outcome.suggestions
    assert any(entry["source"] == "pdf:text" for entry in outcome.suggestions)


# -- batches through the task bodies, run serially ---------------------------------------------

def test_good_and_bad_files_of_one_batch(any_station, small_page, tmp_path):
    bad = tmp_path / "hỏng.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj <<")
    batch_id = any_station.ingest(small_page, CRAZYONES, bad)
    summary = any_station.summary(batch_id)
    assert summary["status"] == "partial"
    assert [(f["file"], f["state"], f["pages"]) for f in summary["files"]] == [
        ("trang-1.png", "done", 1), ("crazyones.pdf", "done", 1), ("hỏng.pdf", "failed", 0)]
    assert summary["files"][2]["error"]["code"] in ("corrupt", "truncated")
    with any_station.session() as session:
        statuses = session.scalars(select(Item.status).order_by(Item.id)).all()
        assert statuses == [ItemStatus.REVIEW, ItemStatus.REVIEW, ItemStatus.DRAFT]
        assert session.scalar(select(func.count(Page.id))) == 2
    assert any_station.object_keys() == set(any_station.file_keys())


def test_each_page_has_its_objects_and_rows(station, small_page):
    batch_id = station.ingest(small_page)
    handle = station.summary(batch_id)["files"][0]["handle"]
    assert sorted(station.object_keys()) == sorted(
        [f"items/{handle}/document.pdf", f"items/{handle}/originals/0001.png"]
        + [f"items/{handle}/pages/0001/{name}" for name in
           ("hocr.html", "master.png", "text.txt", "thumbnail.jpg", "web.jpg")])
    with station.session() as session:
        page = session.scalar(select(Page))
        assert "viện" in page.text and page.width > 0 and page.label == "1"
        task = session.scalar(select(IngestTask).where(IngestTask.kind == "item"))
        assert task.result["pages"] == 1 and task.result["suggestions"]


def test_a_done_task_is_not_run_again(station, small_page):
    batch_id, jobs = station.start(small_page)
    station.run(jobs)
    uids = _page_uids(station)
    assert station.run(jobs) == len(jobs)  # delivered again: claimed by nobody
    with station.session() as session:
        attempts = session.scalars(select(IngestTask.attempts)).all()
    assert attempts == [1, 1] and _page_uids(station) == uids


def test_a_bad_file_fails_at_once_and_is_not_retried(station, tmp_path, monkeypatch):
    def corrupt(ctx, engine):
        raise CorruptFile("The image is damaged and cannot be decoded: test")
    monkeypatch.setattr(pipeline, "process_page", corrupt)
    batch_id = station.ingest(_copy(tmp_path))
    with station.session() as session:
        page = session.scalar(select(IngestTask).where(IngestTask.kind == "page"))
        assert (page.state, page.attempts, page.error_code) == (TaskState.FAILED, 1, "corrupt")
        assert session.get(IngestBatch, batch_id).status is BatchStatus.FAILED


def test_unexpected_errors_are_retried_then_stop_with_their_reason(station, tmp_path,
                                                                    monkeypatch):
    def broken(ctx, engine):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(pipeline, "process_page", broken)
    batch_id = station.ingest(_copy(tmp_path))
    with station.session() as session:
        page = session.scalar(select(IngestTask).where(IngestTask.kind == "page"))
        assert (page.state, page.attempts, page.error_code) == (TaskState.FAILED, 3, "internal")
        assert "disk on fire" in page.error_message
    summary = station.summary(batch_id)
    assert summary["files"][0]["error"]["code"] == "internal"


class Crash(BaseException):
    """A worker killed between storing objects and committing rows."""


def test_a_crash_after_storing_leaves_no_orphan_and_no_duplicate(station, small_page,
                                                                 monkeypatch):
    batch_id, jobs = station.start(small_page)
    real = results.record_page

    def crash_once(*args, **kwargs):
        monkeypatch.setattr(results, "record_page", real)
        raise Crash()
    monkeypatch.setattr(results, "record_page", crash_once)
    with pytest.raises(Crash):
        station.run(jobs)
    assert station.object_keys() and not station.file_keys()  # stored, never recorded
    with station.app.app_context():
        again = tasks.recover(station.rt)  # the claimant is this process: alive
        assert again == []
        station.settings = station.settings.replace(stale_after=0)
        station.rt.settings = station.settings
        again = tasks.recover(station.rt)
    assert again == [("page", jobs[0][1])]
    station.run(again)
    assert station.summary(batch_id)["status"] == "done"
    assert station.object_keys() == set(station.file_keys())
    with station.session() as session:
        assert session.scalar(select(func.count(Page.id))) == 1
        assert session.scalar(select(IngestTask.attempts).where(IngestTask.kind == "page")) == 2


def test_a_page_that_kills_every_worker_fails_with_that_reason(station, small_page):
    batch_id, jobs = station.start(small_page)
    page_task = jobs[0][1]
    for _attempt in range(station.settings.max_attempts):
        assert work.claim(station.db, page_task, worker={"host": "gone", "pid": 1})
        work.recover(station.db, stale_after=0, max_attempts=station.settings.max_attempts,
                     pending=set)
    with station.session() as session:
        task = session.get(IngestTask, page_task)
        assert (task.state, task.error_code) == (TaskState.FAILED, "worker-lost")


def test_a_dead_claimant_on_this_host_is_noticed_at_once(station, small_page):
    _, jobs = station.start(small_page)
    dead = {"host": work.worker_identity()["host"], "pid": 2**22 + 7}
    assert work.claim(station.db, jobs[0][1], worker=dead)
    assert work.recover(station.db, stale_after=3600, max_attempts=3, pending=set) == jobs[:1]


def test_a_claim_is_exclusive_and_an_item_waits_for_its_pages(station, small_page):
    _, jobs = station.start(small_page)
    with station.session() as session:
        item_task = session.scalar(select(IngestTask.id).where(IngestTask.kind == "item"))
    assert work.claim(station.db, item_task) is None  # its page is not done
    assert work.claim(station.db, jobs[0][1]) is not None
    assert work.claim(station.db, jobs[0][1]) is None


def test_the_last_page_triggers_the_item_exactly_once(station, small_page, tmp_path):
    batch_id, jobs = station.start(small_page, shutil.copy(small_page, tmp_path / "b.png"),
                                   together=True)
    with station.session() as session:
        item_id = session.scalar(select(IngestTask.item_id).where(IngestTask.kind == "item"))
        session.execute(IngestTask.__table__.update().where(IngestTask.kind == "page")
                        .values(state=TaskState.DONE))
    assert work.trigger_item(station.db, batch_id, item_id) is not None
    assert work.trigger_item(station.db, batch_id, item_id) is None


def test_failed_pages_are_retried_and_the_item_assembled_again(station, small_page,
                                                               tmp_path, monkeypatch):
    second = shutil.copy(small_page, tmp_path / "trang-2.png")
    real = pipeline.process_page
    monkeypatch.setattr(pipeline, "process_page", lambda ctx, engine: real(ctx, engine)
                        if not ctx.source.name.endswith("2.png") else _raise())
    batch_id = station.ingest(small_page, second, together=True)
    assert station.summary(batch_id)["status"] == "partial"
    monkeypatch.setattr(pipeline, "process_page", real)
    with station.session() as session:
        jobs = services.retry_failed(session, session.get(IngestBatch, batch_id))
    station.run(jobs)
    summary = station.summary(batch_id)
    assert summary["status"] == "done" and summary["items"][0]["pages"] == 2
    with station.session() as session:
        document = session.scalar(select(ItemFile).where(ItemFile.role == FileRole.PDF))
    with station.store.open(document.storage_key) as stream:
        assert len(PdfReader(io.BytesIO(stream.read())).pages) == 2


def _raise():
    raise RuntimeError("flaky")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "a.png"
    Image.new("L", (400, 300), 255).save(target)
    return target


def _page_uids(station) -> list[str]:
    with station.session() as session:
        return list(session.scalars(select(Page.uid).order_by(Page.id)))
