"""Batches in the database: start one, plan it into draft items and tasks, retry it, report on it.

No Flask here. ``start_batch`` plans synchronously (the CLI, the demo, tests); the web upload
opens a batch with a "plan" task instead, so that the request ends as soon as the files are
saved, and a worker runs the same ``plan_into``. Everything a plan creates (items, tasks, the
batch's problems) commits in one transaction; the queue hears of it only after the commit.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest import identify
from ingest.errors import IngestError
from ingest.identify import SourceInfo
from ingest.limits import Limits
from ingest.pipeline import info_to_json
from ingest.plan import BatchPlan, ItemPlan, SourceProblem, nfc
from ingest.sources import plan_batch
from ingest.work import UNFINISHED, Bound, Job, Sessions, trigger_item
from repository import items
from repository.dublin_core import Statement
from repository.errors import RepositoryError
from repository.models import (
    BatchStatus,
    Collection,
    IngestBatch,
    IngestTask,
    Item,
    TaskState,
    User,
    utcnow,
)


@dataclass(frozen=True)
class BatchInput:
    """What a batch is made of: paths (each planned on its own, so each file or folder gives its
    own items), or with ``together`` all of them as the pages of one item named ``title``."""

    paths: list[Path]
    manifest: Path | None = None
    together: bool = False
    title: str = ""

    def to_json(self, root: Path) -> dict[str, Any]:
        return {"paths": [_relative(path, root) for path in self.paths],
                "manifest": _relative(self.manifest, root) if self.manifest else None,
                "together": self.together, "title": self.title}

    @classmethod
    def from_json(cls, data: dict[str, Any], root: Path) -> BatchInput:
        manifest = data.get("manifest")
        return cls([root / path for path in data.get("paths", [])],
                   root / manifest if manifest else None, bool(data.get("together")),
                   data.get("title") or "")


def start_batch(session: Session, collection: Collection, given: BatchInput, *,
                actor: User | None, options: dict[str, Any], work_root: Path,
                limits: Limits | None = None) -> tuple[IngestBatch, list[Job]]:
    """Plan ``given`` into draft items and tasks, and commit; return the jobs to enqueue.

    The caller enqueues the jobs after this returns (the commit happened): a worker that takes
    a job always finds its task.
    """
    batch = open_batch(session, collection, _batch_name(given), actor=actor, options=options,
                       work_root=work_root)
    plan_into(session, batch, given, limits=limits or Limits())
    session.commit()
    return batch, ready_jobs(Bound(session), batch.id)


def open_batch(session: Session, collection: Collection, name: str, *, actor: User | None,
               options: dict[str, Any], work_root: Path) -> IngestBatch:
    """A new batch in PLANNING with its own work directory under ``work_root``."""
    work_root.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=utcnow().strftime("%Y%m%d-%H%M%S-"), dir=work_root))
    batch = IngestBatch(collection=collection, created_by=actor, source_name=name[:512],
                        work_dir=str(work_dir), status=BatchStatus.PLANNING, options=options,
                        problems=[])
    session.add(batch)
    session.flush()
    return batch


def add_plan_task(session: Session, batch: IngestBatch, given: BatchInput) -> IngestTask:
    """The task that will plan an uploaded batch in a worker (``tasks.run_plan``)."""
    batch.options = {**batch.options, "input": given.to_json(Path(batch.work_dir))}
    task = IngestTask(batch=batch, kind="plan", original_name=batch.source_name)
    session.add(task)
    session.flush()
    return task


def plan_into(session: Session, batch: IngestBatch, given: BatchInput, *, limits: Limits
              ) -> None:
    """Unpack and check the input, then add a draft item and its tasks per planned item."""
    work_dir = Path(batch.work_dir)
    plan = plan_input(given, work_dir)
    problems = list(plan.problems)
    for number, item_plan in enumerate(plan.items, start=1):
        try:
            item = items.create_item(session, batch.collection, _statements(item_plan),
                                     batch.created_by)
        except RepositoryError as error:
            problems.append(SourceProblem("invalid-metadata", error.template,
                                          dict(error.params), item_plan.source, item_plan.row))
            continue
        _add_tasks(session, batch, item, item_plan, _stage(item_plan, work_dir, number), limits)
    batch.problems = [_problem_json(problem) for problem in problems]
    has_items = bool(session.scalar(select(IngestTask.id).where(
        IngestTask.batch_id == batch.id, IngestTask.kind == "item").limit(1)))
    batch.status = BatchStatus.RUNNING if has_items else BatchStatus.FAILED
    if not has_items:
        batch.finished_at = utcnow()
    session.flush()


def plan_input(given: BatchInput, work_dir: Path) -> BatchPlan:
    """One plan for the whole input; each path planned on its own unless ``together``."""
    if given.together or given.manifest is not None:
        folder = given.paths[0] if len(given.paths) == 1 and given.paths[0].is_dir() \
            else _gather(given.paths, work_dir)
        plan = plan_batch(folder, manifest=given.manifest, work_dir=work_dir)
        if given.together and given.title:
            for item_plan in plan.items:
                item_plan.original_name = given.title
        return plan
    plans = [plan_batch(path, work_dir=work_dir) for path in given.paths]
    merged = BatchPlan(_batch_name(given), plans[0].kind if len(plans) == 1 else "files")
    for part in plans:
        merged.items += part.items
        merged.problems += part.problems
    return merged


def _gather(paths: Sequence[Path], work_dir: Path) -> Path:
    """A folder holding ``paths`` (the upload folder itself when they all lie in it)."""
    parents = {path.parent for path in paths}
    if len(parents) == 1:
        return parents.pop()
    folder = Path(tempfile.mkdtemp(prefix="together-", dir=work_dir))
    for path in paths:
        _link_or_copy(path, folder / path.name)
    return folder


def _statements(item_plan: ItemPlan) -> list[Statement]:
    statements = list(item_plan.metadata)
    if not any(statement.element == "title" for statement in statements):
        title = Path(item_plan.original_name).stem if "." in item_plan.original_name \
            else item_plan.original_name
        statements.insert(0, Statement("title", nfc(title or item_plan.source)))
    return statements


def _stage(item_plan: ItemPlan, work_dir: Path, number: int) -> list[tuple[Path, str]]:
    """Each file of the item inside the work directory (linked or copied when outside it), so
    that every worker finds it there, with the name people know it by."""
    staged = []
    for index, path in enumerate(item_plan.files, start=1):
        if not path.resolve().is_relative_to(work_dir.resolve()):
            target = work_dir / "sources" / f"{number:04d}" / f"{index:04d}{path.suffix.lower()}"
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(path, target)
            path = target
        staged.append((path, file_label(item_plan, item_plan.files[index - 1])))
    return staged


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def file_label(item_plan: ItemPlan, path: Path) -> str:
    """``scans.zip/Tập 1/trang 2.tif``: a file as the person uploading knows it."""
    name = nfc(path.name)
    if item_plan.source == name or item_plan.source.endswith("/" + name):
        return item_plan.source
    where = f"{item_plan.source}#{item_plan.row}" if item_plan.row else item_plan.source
    return f"{where}/{name}"


def _add_tasks(session: Session, batch: IngestBatch, item: Item, item_plan: ItemPlan,
               files: list[tuple[Path, str]], limits: Limits) -> None:
    work_dir = Path(batch.work_dir)
    sequence, first = 0, None
    answers = validated_each([path for path, _ in files], limits)
    for (path, label), info in zip(files, answers, strict=True):
        relative = path.resolve().relative_to(work_dir.resolve()).as_posix()
        if isinstance(info, IngestError):
            error = info
            sequence += 1
            session.add(IngestTask(
                batch=batch, item=item, kind="page", sequence=sequence, source=relative,
                original_name=label, state=TaskState.FAILED, error_code=error.code,
                error_message=error.message[:2000], finished_at=utcnow()))
            continue
        first = first or dataclasses.replace(info, path=Path(label))
        for index in range(info.pages):
            sequence += 1
            session.add(IngestTask(batch=batch, item=item, kind="page", sequence=sequence,
                                   source=relative, page_index=index, original_name=label))
    kept = {"source": info_to_json(first)} if first else None
    session.add(IngestTask(batch=batch, item=item, kind="item", original_name=item_plan.source,
                           result=kept))


def validated_each(paths: list[Path], limits: Limits) -> list[SourceInfo | IngestError]:
    """Identify and validate each file: its pages and metadata, or the error that refuses it
    (``identify.validate_each``: the files' decoders side by side, one per core)."""
    answers: list[SourceInfo | IngestError | None] = []
    files: list[identify.FileType] = []
    for path in paths:
        try:
            files.append(identify.identify(path, limits))
            answers.append(None)
        except IngestError as error:
            answers.append(error)
    found = iter(identify.validate_each(files, limits))
    return [next(found) if answer is None else answer for answer in answers]


def ready_jobs(db: Sessions, batch_id: int) -> list[Job]:
    """The batch's tasks a queue should carry now: queued pages and plans, and the item tasks
    of items that have no page left to run (triggered here)."""
    with db.session() as session:
        rows = session.execute(select(IngestTask.id, IngestTask.kind, IngestTask.item_id)
                               .where(IngestTask.batch_id == batch_id,
                                      IngestTask.state == TaskState.QUEUED)
                               .order_by(IngestTask.id)).all()
    jobs: list[Job] = [(kind, task_id) for task_id, kind, _ in rows if kind != "item"]
    for _, kind, item_id in rows:
        if kind == "item" and item_id is not None:
            triggered = trigger_item(db, batch_id, item_id)
            jobs += [("item", triggered)] if triggered else []
    return jobs


def retry_failed(session: Session, batch: IngestBatch) -> list[Job]:
    """Queue the batch's failed pages and items again (attempts start over); commit; the jobs.

    The item tasks of items with a page to redo wait again for their pages, so that the item's
    PDF is assembled anew with them.
    """
    failed = [task for task in batch.tasks if task.state is TaskState.FAILED]
    redo_items = {task.item_id for task in failed}
    for task in batch.tasks:
        if task in failed or (task.kind == "item" and task.item_id in redo_items):
            _requeue(task)
    if failed:
        batch.status, batch.finished_at = BatchStatus.RUNNING, None
    session.commit()
    return ready_jobs(Bound(session), batch.id) if failed else []


def _requeue(task: IngestTask) -> None:
    task.state, task.attempts, task.started_at, task.finished_at = \
        TaskState.QUEUED, 0, None, None
    task.error_code, task.error_message = "", ""


def _problem_json(problem: SourceProblem) -> dict[str, Any]:
    return {"code": problem.code, "template": problem.template, "params": problem.params,
            "source": problem.source, "row": problem.row, "message": problem.message}


def _batch_name(given: BatchInput) -> str:
    names = [nfc(path.name) for path in given.paths]
    return given.title or (names[0] if len(names) == 1 else ", ".join(names)[:500])


def _relative(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


# -- reports -----------------------------------------------------------------------------------

@dataclass
class FileReport:
    """One input file of a batch: how far it got, what item it became, and why it failed."""

    name: str
    state: str
    item_id: int | None = None
    handle: str = ""
    pages: int = 0
    total: int = 0
    error_code: str = ""
    error_message: str = ""
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        error = {"code": self.error_code, "message": self.error_message} \
            if self.error_code else None
        return {"file": self.name, "state": self.state, "item": self.item_id,
                "handle": self.handle or None, "pages": self.pages, "error": error}


@dataclass
class Progress:
    status: str
    total: int
    done: int
    failed: int
    running: int

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def percent(self) -> int:
        if not self.total:
            return 0 if self.status in ("planning", "running") else 100
        return round(100 * self.finished / self.total)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "total": self.total, "done": self.done,
                "failed": self.failed, "running": self.running, "percent": self.percent,
                "finished": self.status not in ("planning", "running")}


def progress(session: Session, batch: IngestBatch) -> Progress:
    """Counts of the batch's page and item tasks by state (plan tasks are not counted)."""
    states = [task.state for task in batch.tasks if task.kind != "plan"]
    return Progress(batch.status.value, len(states), states.count(TaskState.DONE),
                    states.count(TaskState.FAILED), states.count(TaskState.RUNNING))


def file_reports(batch: IngestBatch) -> list[FileReport]:
    """Every input file in order (pages grouped), then every problem found while planning."""
    reports: dict[tuple[int | None, str], FileReport] = {}
    item_errors = {task.item_id: task for task in batch.tasks
                   if task.kind == "item" and task.state is TaskState.FAILED}
    for task in batch.tasks:
        if task.kind == "page":
            _count_page(reports, task)
        elif task.kind == "plan" and task.state is TaskState.FAILED:
            reports[(None, task.original_name)] = FileReport(
                task.original_name, "failed", error_code=task.error_code,
                error_message=task.error_message)
    for report in reports.values():
        failed_item = item_errors.get(report.item_id)
        if failed_item is not None and report.state == "done":
            report.state, report.error_code = "failed", failed_item.error_code
            report.error_message = failed_item.error_message
    return list(reports.values()) + [_problem_report(problem) for problem in batch.problems]


def _count_page(reports: dict[tuple[int | None, str], FileReport], task: IngestTask) -> None:
    key = (task.item_id, task.source)
    report = reports.get(key)
    if report is None:
        report = reports[key] = FileReport(task.original_name, "done", task.item_id,
                                           task.item.handle if task.item else "")
    report.total += 1
    if task.state is TaskState.DONE:
        report.pages += 1
    elif task.state is TaskState.FAILED and not report.error_code:
        report.error_code, report.error_message = task.error_code, task.error_message
    report.state = _file_state(report, task.state)


def _file_state(report: FileReport, state: TaskState) -> str:
    if state in UNFINISHED or report.state in ("queued", "running"):
        return "running" if state is TaskState.RUNNING or report.state == "running" else "queued"
    if report.error_code:
        return "failed" if not report.pages else "partial"
    return "done"


def _problem_report(problem: dict[str, Any]) -> FileReport:
    return FileReport(problem.get("source") or "", "failed", error_code=problem["code"],
                      error_message=problem.get("message", ""),
                      template=problem.get("template", ""), params=problem.get("params", {}))


def summary(batch: IngestBatch) -> dict[str, Any]:
    """What ``khoso ingest --json`` prints: the batch, then per input file its outcome."""
    files = file_reports(batch)
    return {"batch": batch.id, "status": batch.status.value,
            "collection": batch.collection.slug, "source": batch.source_name,
            "files": [report.to_json() for report in files],
            "items": [_item_json(task) for task in batch.tasks if task.kind == "item"],
            "totals": {"files": len(files),
                       "done": sum(report.state == "done" for report in files),
                       "failed": sum(report.state in ("failed", "partial") for report in files),
                       "pages": sum(report.pages for report in files)}}


def _item_json(task: IngestTask) -> dict[str, Any]:
    item = task.item
    return {"item": task.item_id, "handle": item.handle if item else None,
            "title": item.title if item else "", "state": task.state.value,
            "status": item.status.value if item else None,
            "pages": (task.result or {}).get("pages", 0)}

