"""The life of an ``IngestTask`` row: claimed, done, failed, released for a retry, recovered.

Exactly-once comes from here, not from the queue: a queue may deliver a task twice (a retry, a
recovery, two workers) but only the delivery that moves the row from QUEUED to RUNNING (one
conditional UPDATE) runs it, and only that attempt may mark it DONE (another conditional UPDATE
in the same transaction as its results). A worker killed mid-task leaves its row RUNNING;
``recover`` finds such rows by their claimant (a dead process on this host) or their age and
queues them again, or fails them for good after ``max_attempts``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from ingest.errors import ExitCode, IngestError
from repository.errors import N_
from repository.models import BatchStatus, IngestBatch, IngestTask, TaskState, utcnow

UNFINISHED = (TaskState.QUEUED, TaskState.RUNNING)
Job = tuple[str, int]  # (kind, task id): what a queue carries


class Sessions(Protocol):
    """What work needs of a database: one session per unit of work (``repository.db.Database``)."""

    def session(self) -> AbstractContextManager[Session]: ...


class WorkerLost(IngestError):
    code = "worker-lost"
    exit_code = ExitCode.crashed
    default = N_("The worker processing this page stopped (crashed or was killed) on every "
                 "attempt; the page probably makes it crash. Check the file and retry.")


class NoPages(IngestError):
    code = "no-pages"
    exit_code = ExitCode.input_file
    default = N_("None of this item's pages could be read, so no item was made of them.")


class Interrupted(IngestError):
    code = "internal"
    exit_code = ExitCode.other_error
    default = N_("An unexpected error stopped this task after every retry; the administrator "
                 "can see the details in the worker's log.")


@dataclass(frozen=True)
class Claim:
    """A task this worker now holds: what to do, where, and which attempt this is."""

    task_id: int
    batch_id: int
    item_id: int | None
    kind: str
    sequence: int
    attempt: int
    work_dir: Path
    source: str
    page_index: int
    original_name: str
    options: dict[str, Any]
    handle: str = ""

    @property
    def source_path(self) -> Path:
        return self.work_dir / self.source

    @property
    def scratch(self) -> Path:
        """This attempt's private folder inside the batch's work directory."""
        return self.work_dir / "scratch" / f"task-{self.task_id}-{self.attempt}"


class Bound:
    """``Sessions`` over one open session: the web request's, or the demo's single transaction.

    Each unit of work commits it, or with ``commit=False`` only flushes, so that the caller's
    transaction holds everything (the demo collection appears whole or not at all).
    """

    def __init__(self, session: Session, *, commit: bool = True) -> None:
        self._session = session
        self._commit = commit

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            yield self._session
        except BaseException:
            if self._commit:
                self._session.rollback()
            raise
        if self._commit:
            self._session.commit()
        else:
            self._session.flush()


def worker_identity() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def claim(db: Sessions, task_id: int, *, worker: dict[str, Any] | None = None) -> Claim | None:
    """Take the task if it is QUEUED (and, for an item, if its pages are finished); else None."""
    with db.session() as session:
        task = session.get(IngestTask, task_id)
        if task is None or task.state is not TaskState.QUEUED:
            return None
        if task.kind == "item" and not pages_finished(session, task.batch_id, task.item_id):
            return None
        taken = session.execute(
            update(IngestTask)
            .where(IngestTask.id == task_id, IngestTask.state == TaskState.QUEUED)
            .values(state=TaskState.RUNNING, attempts=IngestTask.attempts + 1,
                    started_at=utcnow(),
                    result={**(task.result or {}), "worker": worker or worker_identity()}))
        if taken.rowcount != 1:
            return None
        session.refresh(task)
        batch = task.batch
        return Claim(task.id, task.batch_id, task.item_id, task.kind, task.sequence,
                     task.attempts, Path(batch.work_dir), task.source, task.page_index,
                     task.original_name, dict(batch.options or {}),
                     task.item.handle if task.item is not None else "")


def finish(session: Session, held: Claim, result: dict[str, Any]) -> bool:
    """Mark the task DONE in the caller's transaction, if this attempt still holds it."""
    done = session.execute(
        update(IngestTask)
        .where(IngestTask.id == held.task_id, IngestTask.state == TaskState.RUNNING,
               IngestTask.attempts == held.attempt)
        .values(state=TaskState.DONE, finished_at=utcnow(), result=result, error_code="",
                error_message=""))
    return done.rowcount == 1


def fail(db: Sessions, held: Claim, error: IngestError) -> bool:
    """Stop the task for good with the error's code and message (a bad file is not retried)."""
    with db.session() as session:
        return _set_failed(session, held.task_id, held.attempt, error)


def release(db: Sessions, held: Claim, error: BaseException, max_attempts: int) -> bool:
    """After an unexpected error: queue the task again (True) or fail it for good (False)."""
    detail = f"{type(error).__name__}: {error}"[:500]
    if held.attempt >= max_attempts:
        fail(db, held, Interrupted(detail))
        return False
    with db.session() as session:
        session.execute(
            update(IngestTask)
            .where(IngestTask.id == held.task_id, IngestTask.state == TaskState.RUNNING,
                   IngestTask.attempts == held.attempt)
            .values(state=TaskState.QUEUED, error_code="retrying", error_message=detail))
    return True


def _set_failed(session: Session, task_id: int, attempt: int, error: IngestError) -> bool:
    failed = session.execute(
        update(IngestTask)
        .where(IngestTask.id == task_id, IngestTask.state == TaskState.RUNNING,
               IngestTask.attempts == attempt)
        .values(state=TaskState.FAILED, finished_at=utcnow(), error_code=error.code,
                error_message=error.message[:2000]))
    return failed.rowcount == 1


def pages_finished(session: Session, batch_id: int, item_id: int | None) -> bool:
    return not session.scalar(select(exists().where(
        IngestTask.batch_id == batch_id, IngestTask.item_id == item_id,
        IngestTask.kind == "page", IngestTask.state.in_(UNFINISHED))))


def trigger_item(db: Sessions, batch_id: int, item_id: int) -> int | None:
    """The item task's id if its pages are all finished and no one triggered it before.

    One conditional UPDATE, so that of two workers finishing the last two pages at once exactly
    one enqueues the item task (``started_at`` is set when an item task is triggered).
    """
    page = aliased(IngestTask)
    unfinished = exists().where(page.batch_id == batch_id, page.item_id == item_id,
                                page.kind == "page", page.state.in_(UNFINISHED))
    item_task = and_(IngestTask.batch_id == batch_id, IngestTask.item_id == item_id,
                     IngestTask.kind == "item")
    with db.session() as session:
        triggered = session.execute(
            update(IngestTask)
            .where(item_task, IngestTask.state == TaskState.QUEUED,
                   IngestTask.started_at.is_(None), ~unfinished)
            .values(started_at=utcnow()))
        if triggered.rowcount != 1:
            return None
        return session.scalar(select(IngestTask.id).where(item_task))


def finalize_batch(db: Sessions, batch_id: int) -> BatchStatus | None:
    """Close the batch once no task is left to run: DONE, PARTIAL or FAILED."""
    with db.session() as session:
        counts = dict(session.execute(
            select(IngestTask.state, func.count()).where(IngestTask.batch_id == batch_id)
            .group_by(IngestTask.state)).all())
        if any(counts.get(state) for state in UNFINISHED):
            return None
        batch = session.get(IngestBatch, batch_id)
        if batch is None or batch.status is not BatchStatus.RUNNING:
            return None
        status = _outcome(session, batch, counts.get(TaskState.FAILED, 0))
        closed = session.execute(
            update(IngestBatch)
            .where(IngestBatch.id == batch_id, IngestBatch.status == BatchStatus.RUNNING)
            .values(status=status, finished_at=utcnow()))
        return status if closed.rowcount == 1 else None


def _outcome(session: Session, batch: IngestBatch, failed: int) -> BatchStatus:
    items_done = session.scalar(select(func.count()).where(
        IngestTask.batch_id == batch.id, IngestTask.kind == "item",
        IngestTask.state == TaskState.DONE)) or 0
    if not items_done:
        return BatchStatus.FAILED
    return BatchStatus.PARTIAL if failed or batch.problems else BatchStatus.DONE


# -- recovery ----------------------------------------------------------------------------------

def recover(db: Sessions, *, stale_after: float, max_attempts: int,
            pending: Callable[[], set[Job]], alive: Callable[[dict], bool] | None = None
            ) -> list[Job]:
    """Put right what dead workers left behind; return the jobs to enqueue.

    RUNNING tasks whose worker is gone (a dead process on this host, or no news for
    ``stale_after`` seconds) are queued again, or failed once they used up their attempts.
    QUEUED tasks that no queue holds (a crash between commit and enqueue, a worker killed after
    taking the message) are enqueued again; duplicates are harmless, as claims are conditional.
    """
    alive = alive or claimant_alive
    cutoff = utcnow() - timedelta(seconds=stale_after)
    with db.session() as session:
        for task in _running(session):
            if task.started_at and task.started_at > cutoff and alive(task.result or {}):
                continue
            _requeue_or_fail(session, task, max_attempts)
    _trigger_finished_items(db)
    waiting = pending()
    with db.session() as session:
        jobs = [(task.kind, task.id) for task in _queued(session)]
    return [job for job in jobs if job not in waiting]


def claimant_alive(result: dict[str, Any]) -> bool:
    """False only when we know: the claimant was a process on this host that is gone."""
    worker = result.get("worker") or {}
    if worker.get("host") != socket.gethostname() or not worker.get("pid"):
        return True
    try:
        os.kill(int(worker["pid"]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(int(worker["pid"]))


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _running(session: Session) -> Iterator[IngestTask]:
    yield from session.scalars(select(IngestTask).where(IngestTask.state == TaskState.RUNNING))


def _requeue_or_fail(session: Session, task: IngestTask, max_attempts: int) -> None:
    if task.attempts >= max_attempts:
        _set_failed(session, task.id, task.attempts, WorkerLost())
        return
    session.execute(
        update(IngestTask)
        .where(IngestTask.id == task.id, IngestTask.state == TaskState.RUNNING,
               IngestTask.attempts == task.attempts)
        .values(state=TaskState.QUEUED, error_code="retrying",
                error_message="worker lost; queued again"))


def _trigger_finished_items(db: Sessions) -> None:
    with db.session() as session:
        waiting = list(session.execute(select(IngestTask.batch_id, IngestTask.item_id).where(
            IngestTask.kind == "item", IngestTask.state == TaskState.QUEUED,
            IngestTask.started_at.is_(None))).all())
    for batch_id, item_id in waiting:
        trigger_item(db, batch_id, item_id)


def _queued(session: Session) -> Iterator[IngestTask]:
    """QUEUED tasks that may run now: every page and plan, items once triggered."""
    ready = (IngestTask.kind != "item") | IngestTask.started_at.is_not(None)
    yield from session.scalars(select(IngestTask).where(
        IngestTask.state == TaskState.QUEUED, ready).order_by(IngestTask.id))
