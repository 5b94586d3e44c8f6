"""The work queue: task bodies (plan, page, item), the Huey queue that carries them, and a
serial executor that runs the same bodies in this process (tests, the demo).

Each body takes a ``Runtime`` and a task id, claims the task (``work.claim``), runs the
pipeline, records the outcome, and returns the follow-up jobs (an item task once its last page is
done) for whoever runs it to enqueue. A bad file fails its task at once with its reason; any other
error queues the task again (``RetryLater``: Huey waits ``retry_delay``, doubled each time) until
``max_attempts`` is spent.

The Huey instance is built by ``TaskQueue`` from the settings (SQLite file by default, Redis for
several machines) and the task functions are registered on it there, not at import time: a
producer (web, CLI) and a consumer (``khoso worker``) that build a queue from the same settings
agree on the task names (``ingest.tasks.ingest_page`` ...). Consumers run process workers; each
process builds its own database engine, store and Tesseract engine on first use.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import shutil
import signal
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

import storage
from ingest import identify, pipeline, results, work
from ingest.config import IngestSettings
from ingest.context import PageContext
from ingest.errors import IngestError
from ingest.ocr import OcrEngine, worker_engine
from ingest.pipeline import ItemWork
from ingest.services import BatchInput, plan_into, ready_jobs
from ingest.work import Claim, Job, NoPages, Sessions
from repository import items
from repository.access import Policy
from repository.db import Database
from repository.fixity import scheduled_fixity
from repository.harvest.client import make_client
from repository.harvest.service import harvest_all
from repository.indexing import index_after_commit, mark_for_reindex
from repository.models import (
    BatchStatus,
    IngestBatch,
    IngestTask,
    Item,
    ItemStatus,
    Page,
    TaskState,
    utcnow,
)
from repository.oai.records import sync_after_commit, sync_all
from repository.search import open_search
from repository.usage import scheduled_rollup

log = logging.getLogger(__name__)
PRIORITIES = {"plan": 30, "item": 20, "page": 10}
PR_SET_PDEATHSIG = 1


class RetryLater(Exception):
    """The task hit an unexpected error and was queued again; the queue should retry it."""


class Superseded(Exception):
    """Another attempt finished this task first (a presumed-dead worker was alive after all)."""


@dataclass
class Runtime:
    """What a task body needs: settings, a database, the object store."""

    settings: IngestSettings
    db: Sessions
    store: storage.ObjectStore
    ocr: bool = True
    engines: dict[str, OcrEngine] = field(default_factory=dict)

    def engine(self, options: dict[str, Any]) -> OcrEngine | None:
        """This process's Tesseract, or None for a batch (or a runtime) that wants no OCR."""
        if not self.ocr or options.get("ocr") is False:
            return None
        return worker_engine(self.settings.tessdata)


def build_runtime(settings: IngestSettings) -> Runtime:
    """A runtime of this process's own: engine, store and the re-indexing hook of the app."""
    database = Database(settings.database_url)
    search = functools.cache(lambda: open_search(settings.search_url))
    policy = Policy()
    index_after_commit(database.sessionmaker, search, policy,
                       on_error=lambda exc: log.error("indexing failed: %s", exc))
    sync_after_commit(database.sessionmaker, policy,
                      on_error=lambda exc: log.error("OAI-PMH sync failed: %s", exc))
    return Runtime(settings, database, storage.open_store(settings.storage_url))


HARVEST_TIMEOUT = 60.0
_RUNTIMES: dict[int, Runtime] = {}


def process_runtime(settings: IngestSettings) -> Runtime:
    """The runtime of the calling process, built on first use (after a fork, anew)."""
    runtime = _RUNTIMES.get(os.getpid())
    if runtime is None:
        runtime = _RUNTIMES[os.getpid()] = build_runtime(settings)
    return runtime


# -- task bodies -------------------------------------------------------------------------------

def run_page(rt: Runtime, task_id: int) -> list[Job]:
    """One page through the pipeline; its objects and rows; the item task if it was the last."""
    held = work.claim(rt.db, task_id)
    if held is None:
        return []
    _attempt(rt, held, _page)
    item = work.trigger_item(rt.db, held.batch_id, held.item_id) if held.item_id else None
    return [("item", item)] if item else []


def _page(rt: Runtime, held: Claim) -> None:
    limits = rt.settings.limits
    found = identify.identify(held.source_path, limits)
    ctx = PageContext(work_dir=held.scratch, source=held.source_path, page_index=held.page_index,
                      kind=found.kind, options=rt.settings.options(held.options))
    outcome = pipeline.process_page(ctx, rt.engine(held.options))
    stored = results.put_page(rt.store, held.handle, held.sequence, outcome, held.scratch)
    results.keep_page_pdf(outcome, held.work_dir, held.item_id or 0, held.sequence)
    result = {"text_source": outcome.text_source, "confidence": outcome.confidence,
              "notes": list(outcome.notes), "worker": work.worker_identity()}
    with rt.db.session() as session:
        results.record_page(session, held.item_id or 0, held.sequence, outcome, stored)
        if not work.finish(session, held, result):
            raise Superseded()


def run_item(rt: Runtime, task_id: int) -> list[Job]:
    """Assemble the item's PDF, store its originals, suggest metadata, send it to review."""
    held = work.claim(rt.db, task_id)
    if held is None:
        return []
    _attempt(rt, held, _item)
    close_batch(rt, held.batch_id)
    return []


def _item(rt: Runtime, held: Claim) -> None:
    with rt.db.session() as session:
        item_work, originals, failed = gather_item(session, held, rt.settings)
    if not item_work.page_pdfs:
        raise NoPages()
    outcome = pipeline.finish_item(item_work)
    stored = [results.put(rt.store, results.item_key(held.handle, results.FileRole.PDF, "pdf"),
                          outcome.document, results.FileRole.PDF, "application/pdf",
                          f"{held.handle}.pdf")]
    stored += [results.put(rt.store, results.original_key(held.handle, number, kind), path,
                           results.FileRole.ORIGINAL, results.original_media_type(kind), label)
               for number, (path, label, kind) in enumerate(originals, start=1)]
    result = {"pages": len(item_work.page_pdfs), "failed_pages": failed,
              "source": pipeline.info_to_json(item_work.source),
              "suggestions": outcome.suggestions, "text_source": item_work.text_source,
              "worker": work.worker_identity()}
    with rt.db.session() as session:
        results.record_files(session, held.item_id or 0, stored)
        to_review(session, held.item_id or 0)
        if not work.finish(session, held, result):
            raise Superseded()


def gather_item(session, held: Claim, settings: IngestSettings
                ) -> tuple[ItemWork, list[tuple[Path, str, str]], list[int]]:
    """The item's finished pages in order: PDFs, texts, source files; and its failed pages."""
    pages = list(session.scalars(select(IngestTask).where(
        IngestTask.batch_id == held.batch_id, IngestTask.item_id == held.item_id,
        IngestTask.kind == "page").order_by(IngestTask.sequence)))
    done = [task for task in pages if task.state is TaskState.DONE]
    texts = dict(session.execute(select(Page.sequence, Page.text).where(
        Page.item_id == held.item_id)).all())
    sources = list(dict.fromkeys((task.source, task.original_name) for task in done))
    originals = [(held.work_dir / source, label,
                  identify.identify(held.work_dir / source, settings.limits).kind)
                 for source, label in sources]
    text_sources = {(task.result or {}).get("text_source") for task in done}
    item = session.get(Item, held.item_id)
    kept = (session.get(IngestTask, held.task_id).result or {}).get("source")
    item_work = ItemWork(
        work_dir=held.scratch, title=item.title if item else "",
        source=pipeline.info_from_json(kept) if kept else pipeline.source_info(
            originals[0][0], settings.limits, originals[0][1]) if originals else None,
        page_pdfs=[results.page_pdf_path(held.work_dir, held.item_id or 0, task.sequence)
                   for task in done],
        page_texts=[texts.get(task.sequence, "") for task in done],
        text_source="pdf:text" if text_sources == {"pdf:text"} else "ocr",
        limits=settings.limits)
    return item_work, originals, [task.sequence for task in pages if task.state is
                                  TaskState.FAILED]


def to_review(session, item_id: int) -> None:
    """A new item waits for staff in REVIEW; an item already reviewed keeps its status."""
    item = session.get(Item, item_id)
    if item is not None and item.status is ItemStatus.DRAFT:
        items.change_status(session, item, ItemStatus.REVIEW)
    mark_for_reindex(session, [item_id])


def run_plan(rt: Runtime, task_id: int) -> list[Job]:
    """Plan an uploaded batch (unpack, check, draft items and tasks), then queue its pages."""
    held = work.claim(rt.db, task_id)
    if held is None:
        return []
    _attempt(rt, held, _plan)
    with rt.db.session() as session:
        task = session.get(IngestTask, task_id)
        failed = task is not None and task.state is TaskState.FAILED
        if failed:
            _fail_batch(session, held.batch_id)
    return [] if failed else ready_jobs(rt.db, held.batch_id)


def _plan(rt: Runtime, held: Claim) -> None:
    with rt.db.session() as session:
        batch = session.get(IngestBatch, held.batch_id)
        if batch is not None and batch.status is BatchStatus.PLANNING:
            given = BatchInput.from_json(batch.options.get("input", {}), held.work_dir)
            plan_into(session, batch, given, limits=rt.settings.limits)
        if not work.finish(session, held, {"worker": work.worker_identity()}):
            raise Superseded()


def _fail_batch(session, batch_id: int) -> None:
    batch = session.get(IngestBatch, batch_id)
    if batch is not None and batch.status is BatchStatus.PLANNING:
        batch.status, batch.finished_at = BatchStatus.FAILED, utcnow()


def _attempt(rt: Runtime, held: Claim, body: Callable[[Runtime, Claim], None]) -> None:
    """Run ``body``: a typed error fails the task, anything else queues it for a retry."""
    held.scratch.mkdir(parents=True, exist_ok=True)
    try:
        body(rt, held)
    except IngestError as error:
        work.fail(rt.db, held, error)
    except Superseded:
        log.warning("task %s was finished by another attempt", held.task_id)
    except Exception as error:
        log.exception("task %s (%s) failed unexpectedly", held.task_id, held.kind)
        if work.release(rt.db, held, error, rt.settings.max_attempts):
            raise RetryLater(f"task {held.task_id}: {type(error).__name__}") from error
    finally:
        shutil.rmtree(held.scratch, ignore_errors=True)


def close_batch(rt: Runtime, batch_id: int) -> BatchStatus | None:
    """Close the batch if nothing is left to run, then sweep stray objects of its items."""
    status = work.finalize_batch(rt.db, batch_id)
    if status is not None:
        with rt.db.session() as session:
            item_ids = select(IngestTask.item_id).where(IngestTask.batch_id == batch_id)
            handles = list(session.scalars(select(Item.handle).where(Item.id.in_(item_ids))))
            for handle in handles:
                results.sweep(session, rt.store, handle)
    return status


def recover(rt: Runtime, pending: Callable[[], set[Job]] = set) -> list[Job]:
    """Jobs left behind by dead workers or a crash before enqueueing (``work.recover``)."""
    jobs = work.recover(rt.db, stale_after=rt.settings.stale_after,
                        max_attempts=rt.settings.max_attempts, pending=pending)
    with rt.db.session() as session:
        closing = list(session.scalars(select(IngestBatch.id).where(
            IngestBatch.status == BatchStatus.RUNNING)))
    for batch_id in closing:
        close_batch(rt, batch_id)
    return jobs


BODIES: dict[str, Callable[[Runtime, int], list[Job]]] = {
    "plan": run_plan, "page": run_page, "item": run_item}


# -- executors ---------------------------------------------------------------------------------

def run_serially(rt: Runtime, jobs: Iterable[Job]) -> int:
    """Run jobs and their follow-ups one after the other in this process; retries at once."""
    queue: deque[Job] = deque(jobs)
    count = 0
    while queue:
        kind, task_id = queue.popleft()
        try:
            queue.extend(BODIES[kind](rt, task_id))
        except RetryLater:
            queue.append((kind, task_id))
        count += 1
    return count


class TaskQueue:
    """The Huey queue named by the settings, with the ingest tasks registered on it."""

    def __init__(self, settings: IngestSettings,
                 runtime: Callable[[], Runtime] | None = None) -> None:
        self.settings = settings
        self.huey = make_huey(settings)
        self._runtime = runtime or functools.partial(process_runtime, settings)
        self._tasks = self._register()

    def enqueue(self, jobs: Iterable[Job]) -> None:
        for kind, task_id in jobs:
            self._tasks[kind](task_id)

    def pending(self) -> set[Job]:
        """Jobs waiting in the queue or scheduled for a retry (not those being run)."""
        kinds = {f"ingest_{kind}": kind for kind in BODIES}
        waiting = [*self.huey.pending(), *self.huey.scheduled()]
        return {(kinds[type(task).__name__], task.args[0]) for task in waiting
                if type(task).__name__ in kinds and task.args}

    def flush(self) -> None:
        """Drop every message of this queue (its own keys only, on a shared Redis)."""
        self.huey.flush()

    def consumer(self, processes: int):
        """A Huey consumer with ``processes`` worker processes and the periodic recovery."""
        return _mortal_consumer()(
            self.huey, workers=processes, worker_type="process", periodic=True,
            initial_delay=0.02, backoff=1.15, max_delay=0.5, check_worker_health=True,
            health_check_interval=5)

    def _register(self) -> dict[str, Any]:
        from huey import crontab

        huey, settings = self.huey, self.settings
        retry = {"retries": settings.retries, "retry_delay": settings.retry_delay,
                 "retry_backoff": 2}
        tasks: dict[str, Any] = {}

        def follow(jobs: list[Job]) -> None:
            for kind, task_id in jobs:
                tasks[kind](task_id)

        for kind, body in BODIES.items():
            def run(task_id: int, body=body) -> None:
                follow(body(self._runtime(), task_id))
            tasks[kind] = huey.task(name=f"ingest_{kind}", priority=PRIORITIES[kind],
                                    **retry)(run)

        @huey.on_startup(name="ingest_warm_up")
        def warm_up() -> None:  # while the first batch is still being planned
            engine = self._runtime().engine({})
            if engine is not None:
                engine.warm_up(settings.languages)
                log.info("worker %d ready: %s for %s", os.getpid(), engine.name,
                         settings.languages)

        @huey.periodic_task(crontab(minute="*"), name="ingest_recover")
        def ingest_recover() -> None:
            follow(recover(self._runtime(), self.pending))

        self._register_upkeep(huey, crontab)
        return tasks

    def _register_upkeep(self, huey, crontab) -> None:
        """The library's scheduled jobs, run by the same consumer (times are UTC)."""

        @huey.periodic_task(crontab(minute="*/10"), name="oai_sync")
        def oai_sync() -> None:  # embargoes lift without a write the commit hook would see
            sync_all(self._runtime().db.sessionmaker, Policy())

        @huey.periodic_task(crontab(minute="15", hour="*/6"), name="harvest_partners")
        def harvest_partners() -> None:
            for outcome in harvest_all(self._runtime().db,
                                       make_client(HARVEST_TIMEOUT, "Khoso")):
                if not outcome.ok:
                    log.warning("harvest of %s failed: %s", outcome.partner, outcome.error)

        @huey.periodic_task(crontab(day_of_week="6", hour="19", minute="0"),
                            name="fixity_weekly")
        def fixity_weekly() -> None:  # 02:00 on Sunday, Viet Nam time
            runtime = self._runtime()
            scheduled_fixity(runtime.db, runtime.store)

        @huey.periodic_task(crontab(hour="17", minute="30"), name="usage_rollup")
        def usage_rollup() -> None:  # 00:30, Viet Nam time
            scheduled_rollup(self._runtime().db)


def make_huey(settings: IngestSettings):
    """SqliteHuey for ``sqlite:///path``; PriorityRedisHuey for ``redis://``."""
    url = settings.queue_url
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from huey import SqliteHuey

        path = Path(urlsplit(url).path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.queue_name, filename=str(path), results=False, utc=True)
    if scheme in ("redis", "rediss", "unix"):
        from huey import PriorityRedisHuey

        return PriorityRedisHuey(settings.queue_name, url=url, results=False, utc=True)
    raise ValueError(f"queue URL {url!r}: use sqlite:///path/queue.sqlite3 or redis://host:port/db")


def _mortal_consumer():
    """Huey's consumer whose worker and scheduler processes die with it (see die_with_parent)."""
    from huey.consumer import Consumer

    class MortalConsumer(Consumer):
        def _create_process(self, process, name):
            initialize = process.initialize

            def initialize_mortal() -> None:
                die_with_parent()
                initialize()
            process.initialize = initialize_mortal
            return super()._create_process(process, name)

    return MortalConsumer


def die_with_parent() -> None:
    """Linux: a worker process is killed with its consumer, even by ``kill -9``, so that no
    orphan goes on taking tasks while the recovery counts it as dead."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        return
    if os.getppid() == 1:  # the consumer died before the call took effect
        os._exit(1)


def single_threaded_ocr() -> None:
    """Tesseract in every worker process uses one core: the processes share the cores."""
    os.environ["OMP_THREAD_LIMIT"] = "1"

