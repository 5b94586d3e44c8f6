"""Fixity audit: re-read every stored object, hash it, compare with the checksum recorded when
it was stored, and report objects missing, changed or unreadable, and objects no file refers to.

A run keeps a cursor (the last file id checked) and commits after each batch, so a run that
crashed or stopped at its ``limit`` goes on where it stopped. Problems stay open until a later
run finds the object sound again (restored from a backup, say); nothing is ever deleted here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

import storage
from repository.db import Database
from repository.models import Base, ItemFile, UTCDateTime, enum_column, intpk, utcnow
from storage.streams import hash_stream

# Objects younger than this are being written right now (their file row commits later).
ORPHAN_GRACE = timedelta(hours=1)
OBJECT_PREFIX = "items/"
BATCH_SIZE = 100
LIST_CHUNK = 500

Clock = Callable[[], datetime]


class RunState(enum.Enum):
    RUNNING = "running"      # under way, or stopped (crash, limit): the next run resumes it
    DONE = "done"
    ABANDONED = "abandoned"  # a fresh run was asked for instead of resuming this one


class ProblemKind(enum.Enum):
    MISSING = "missing"            # a file row whose object is not in the store
    CHANGED = "changed"            # the bytes read back differ from the recorded size/sha256
    UNREADABLE = "unreadable"      # the store failed while the object was read
    UNREFERENCED = "unreferenced"  # an object under items/ that no file row names


FILE_PROBLEMS = (ProblemKind.MISSING, ProblemKind.CHANGED, ProblemKind.UNREADABLE)


class FixityRun(Base):
    """One pass over every file (by id) and then over the store's listing."""

    __tablename__ = "fixity_runs"

    id: Mapped[intpk]
    state: Mapped[RunState] = enum_column(RunState, default=RunState.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cursor: Mapped[int] = mapped_column(default=0)  # the last file id checked
    files_checked: Mapped[int] = mapped_column(default=0)
    bytes_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    objects_listed: Mapped[int] = mapped_column(default=0)
    problems: Mapped[int] = mapped_column(default=0)  # seen in this run, new or still open


class FixityProblem(Base):
    """Something wrong with one stored object, open until a run finds it sound again."""

    __tablename__ = "fixity_problems"
    __table_args__ = (Index("ix_fixity_problems_key_kind", "storage_key", "kind"),)

    id: Mapped[intpk]
    run_id: Mapped[int] = mapped_column(
        ForeignKey("fixity_runs.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int | None] = mapped_column(
        ForeignKey("files.id", ondelete="SET NULL"), index=True)
    storage_key: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[ProblemKind] = enum_column(ProblemKind)
    expected_size: Mapped[int | None] = mapped_column(BigInteger)
    found_size: Mapped[int | None] = mapped_column(BigInteger)
    expected_sha256: Mapped[str | None] = mapped_column(String(64))
    found_sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    run: Mapped[FixityRun] = relationship()


@dataclass(frozen=True)
class Finding:
    """What one check found: a problem kind (None when sound) and the facts behind it."""

    kind: ProblemKind | None
    found_size: int | None = None
    found_sha256: str | None = None
    detail: str = ""


@dataclass
class Audit:
    """The state of one call of ``run_fixity``: where it writes and how it tells the time."""

    session: Session
    store: storage.ObjectStore
    run: FixityRun
    clock: Clock
    open_keys: set[str] = field(default_factory=set)


def run_fixity(session: Session, store: storage.ObjectStore, *, clock: Clock = utcnow,
               limit: int | None = None, resume: bool = True,
               orphan_grace: timedelta = ORPHAN_GRACE) -> FixityRun:
    """Check up to ``limit`` files (all without it) of the unfinished run, or of a new one
    (``resume=False`` abandons an unfinished run), streaming each object through SHA-256;
    once every file is checked, look for unreferenced objects older than ``orphan_grace`` and
    finish the run. Commits after each batch. StorageUnavailable stops the run where it is."""
    audit = Audit(session, store, _open_run(session, clock(), resume), clock,
                  _open_file_problem_keys(session))
    session.commit()
    if _check_files(audit, limit):
        _find_orphans(audit, orphan_grace)
        audit.run.state = RunState.DONE
        audit.run.finished_at = clock()
    session.commit()
    return audit.run


def scheduled_fixity(db: Database, store: storage.ObjectStore,
                     limit: int | None = None) -> FixityRun:
    """The periodic job: resume or start a run in a session of its own."""
    with db.session() as session:
        return run_fixity(session, store, limit=limit)


def _open_run(session: Session, now: datetime, resume: bool) -> FixityRun:
    unfinished = list(session.scalars(
        select(FixityRun).where(FixityRun.state == RunState.RUNNING).order_by(FixityRun.id)))
    if resume and unfinished:
        return unfinished[-1]
    for run in unfinished:
        run.state, run.finished_at = RunState.ABANDONED, now
    run = FixityRun(state=RunState.RUNNING, started_at=now, cursor=0, files_checked=0,
                    bytes_checked=0, objects_listed=0, problems=0)
    session.add(run)
    session.flush()
    return run


def _open_file_problem_keys(session: Session) -> set[str]:
    return set(session.scalars(select(FixityProblem.storage_key).where(
        FixityProblem.resolved_at.is_(None), FixityProblem.kind.in_(FILE_PROBLEMS))))


# -- files ---------------------------------------------------------------------------------

def _check_files(audit: Audit, limit: int | None) -> bool:
    """Check files after the cursor, a batch at a time; True once none is left."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = BATCH_SIZE if remaining is None else min(BATCH_SIZE, remaining)
        batch = audit.session.execute(
            select(ItemFile.id, ItemFile.storage_key, ItemFile.size, ItemFile.sha256)
            .where(ItemFile.id > audit.run.cursor).order_by(ItemFile.id).limit(size)).all()
        if not batch:
            return True
        for row in batch:
            _settle_file(audit, row, _read_back(audit, row.storage_key))
            audit.run.cursor = row.id
        audit.session.commit()
        if remaining is not None:
            remaining -= len(batch)
    return audit.session.scalar(
        select(ItemFile.id).where(ItemFile.id > audit.run.cursor).limit(1)) is None


def _read_back(audit: Audit, key: str) -> Finding:
    """Hash the object's bytes as the store gives them now (never the stored checksum)."""
    try:
        with audit.store.open(key) as reader:
            size, sha256 = hash_stream(reader)
    except storage.ObjectNotFound:
        return Finding(ProblemKind.MISSING)
    except storage.StorageUnavailable:
        raise
    except storage.StorageError as exc:
        return Finding(ProblemKind.UNREADABLE, detail=str(exc)[:1000])
    audit.run.bytes_checked += size
    return Finding(None, size, sha256)


def _settle_file(audit: Audit, row, finding: Finding) -> None:
    audit.run.files_checked += 1
    if finding.kind is None and (finding.found_size, finding.found_sha256) != (row.size,
                                                                                row.sha256):
        finding = Finding(ProblemKind.CHANGED, finding.found_size, finding.found_sha256)
    if row.storage_key in audit.open_keys:
        _resolve(audit, row.storage_key, [k for k in FILE_PROBLEMS if k is not finding.kind])
    if finding.kind is not None:
        _report(audit, finding, row.storage_key, file_id=row.id, expected_size=row.size,
                expected_sha256=row.sha256)


# -- objects nobody refers to --------------------------------------------------------------

def _find_orphans(audit: Audit, grace: timedelta) -> None:
    """List the store under items/ and report objects with no file row, except young ones;
    open reports of objects that are no longer orphans are resolved."""
    phase_started = audit.clock()
    for chunk in _chunks(audit.store.list(OBJECT_PREFIX), LIST_CHUNK):
        listed = {info.key: info for info in chunk}
        known = set(audit.session.scalars(
            select(ItemFile.storage_key).where(ItemFile.storage_key.in_(listed))))
        for key, info in listed.items():
            if key not in known and info.modified <= phase_started - grace:
                _report(audit, Finding(ProblemKind.UNREFERENCED, info.size), key)
        audit.run.objects_listed += len(listed)
        audit.session.commit()
    audit.session.execute(
        update(FixityProblem)
        .where(FixityProblem.kind == ProblemKind.UNREFERENCED,
               FixityProblem.resolved_at.is_(None), FixityProblem.last_seen_at < phase_started)
        .values(resolved_at=audit.clock()))


def _chunks(values: Iterable, size: int) -> Iterator[list]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- problems ------------------------------------------------------------------------------

def _report(audit: Audit, finding: Finding, key: str, **expected) -> None:
    """Record a problem, or note that an open one with the same key and kind is still there."""
    now = audit.clock()
    audit.run.problems += 1
    problem = audit.session.scalar(select(FixityProblem).where(
        FixityProblem.storage_key == key, FixityProblem.kind == finding.kind,
        FixityProblem.resolved_at.is_(None)).limit(1))
    if problem is None:
        problem = FixityProblem(run_id=audit.run.id, storage_key=key, kind=finding.kind,
                                detected_at=now, **expected)
        audit.session.add(problem)
    problem.last_seen_at = now
    problem.found_size, problem.found_sha256 = finding.found_size, finding.found_sha256
    problem.detail = finding.detail


def _resolve(audit: Audit, key: str, kinds: list[ProblemKind]) -> None:
    audit.session.execute(
        update(FixityProblem)
        .where(FixityProblem.storage_key == key, FixityProblem.kind.in_(kinds),
               FixityProblem.resolved_at.is_(None))
        .values(resolved_at=audit.clock()))


# -- for the dashboard and the command line ------------------------------------------------

@dataclass(frozen=True)
class FixityStatus:
    last_done: FixityRun | None
    unfinished: FixityRun | None
    open_count: int
    problems: list[FixityProblem]


def fixity_status(session: Session, limit: int | None = 50) -> FixityStatus:
    """The last finished run, a run under way (or stopped), and the first ``limit`` open
    problems (all of them with None)."""
    def latest(state: RunState) -> FixityRun | None:
        return session.scalar(select(FixityRun).where(FixityRun.state == state)
                              .order_by(FixityRun.id.desc()).limit(1))

    is_open = FixityProblem.resolved_at.is_(None)
    return FixityStatus(
        last_done=latest(RunState.DONE), unfinished=latest(RunState.RUNNING),
        open_count=session.scalar(select(func.count(FixityProblem.id)).where(is_open)) or 0,
        problems=list(session.scalars(select(FixityProblem).where(is_open)
                                      .order_by(FixityProblem.id).limit(limit))))
