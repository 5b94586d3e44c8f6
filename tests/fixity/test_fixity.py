"""The fixity audit re-reads the bytes: one corrupted byte, a lost object and an object no file
refers to are all found, on the local and the S3 backend, and a stopped audit resumes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import storage
from repository import collections, fixity, items
from repository.db import Database
from repository.dublin_core import Statement
from repository.files import add_file
from repository.fixity import FixityProblem, ProblemKind, RunState, fixity_status, run_fixity
from repository.models import FileRole, ItemFile, Page, utcnow
from tests.conftest import make_test_app
from viewer.commands.fixity import fixity_command

LATER = timedelta(hours=2)  # past the grace time of objects being written


@pytest.fixture
def session(any_database_url):
    database = Database(any_database_url)
    with database.sessionmaker() as opened:
        yield opened
    database.dispose()


def store_pages(session, store: storage.ObjectStore, folder: Path, count: int = 3) -> list[str]:
    """An item with ``count`` pages, each a small stored master; returns their keys."""
    collection = collections.create_collection(session, slug="dia-ba", title="Địa bạ")
    item = items.create_item(session, collection, [Statement("title", "Địa bạ làng Phú Xá")])
    keys = []
    for sequence in range(1, count + 1):
        page = Page(item=item, sequence=sequence)
        source = folder / f"page-{sequence}.tif"
        source.write_bytes(f"trang {sequence} ".encode() * 4000)
        keys.append(add_file(session, store, item, FileRole.MASTER, source,
                             media_type="image/tiff", extension="tif", page=page).storage_key)
    session.commit()
    return keys


def open_problems(session) -> dict[str, FixityProblem]:
    return {p.storage_key: p for p in session.scalars(
        select(FixityProblem).where(FixityProblem.resolved_at.is_(None)))}


def later() -> object:
    return utcnow() + LATER


def test_a_sound_store_passes(session, tampering, tmp_path):
    keys = store_pages(session, tampering.store, tmp_path)
    run = run_fixity(session, tampering.store, clock=later)
    assert run.state is RunState.DONE and run.finished_at is not None
    assert (run.files_checked, run.objects_listed, run.problems) == (3, 3, 0)
    assert run.bytes_checked == sum(tampering.store.stat(key).size for key in keys)
    assert open_problems(session) == {}


def test_corruption_loss_and_orphans_are_caught(session, tampering, tmp_path):
    store = tampering.store
    corrupted, lost, _sound = store_pages(session, store, tmp_path)
    recorded = session.scalar(select(ItemFile).where(ItemFile.storage_key == corrupted))
    with store.open(corrupted) as reader:
        content = bytearray(reader.read())
    content[1000] ^= 0x01  # one bit of one byte
    tampering.overwrite(corrupted, bytes(content))
    assert store.stat(corrupted).sha256 == recorded.sha256  # the store's own checksum lies
    store.delete(lost)
    store.put("items/khong-ai/orphan.bin", (tmp_path / "page-1.tif"))

    run_fixity(session, store)  # the orphan is too young to be reported yet
    assert set(open_problems(session)) == {corrupted, lost}
    run_fixity(session, store, clock=later)
    found = open_problems(session)
    assert {key: p.kind for key, p in found.items()} == {
        corrupted: ProblemKind.CHANGED, lost: ProblemKind.MISSING,
        "items/khong-ai/orphan.bin": ProblemKind.UNREFERENCED}
    assert found[corrupted].expected_sha256 == recorded.sha256
    assert found[corrupted].found_sha256 not in (None, recorded.sha256)
    assert found[corrupted].file_id == recorded.id and found[lost].found_sha256 is None
    assert session.scalar(select(func.count(FixityProblem.id))) == 3  # seen twice, kept once


def test_problems_are_resolved_once_the_objects_are_sound_again(session, tampering, tmp_path):
    store = tampering.store
    corrupted, lost, _sound = store_pages(session, store, tmp_path)
    tampering.overwrite(corrupted, "hỏng".encode())
    store.delete(lost)
    store.put("items/khong-ai/orphan.bin", (tmp_path / "page-1.tif"))
    run_fixity(session, store, clock=later)
    assert len(open_problems(session)) == 3

    store.put(corrupted, tmp_path / "page-1.tif")   # restored from the backup
    store.put(lost, tmp_path / "page-2.tif")
    store.delete("items/khong-ai/orphan.bin")
    run = run_fixity(session, store, clock=later)
    assert run.problems == 0 and open_problems(session) == {}
    resolved = session.scalars(select(FixityProblem)).all()
    assert len(resolved) == 3 and all(p.resolved_at for p in resolved)


def test_a_stopped_audit_resumes_where_it_stopped(session, tmp_path, monkeypatch):
    store = storage.open_store(f"file://{tmp_path / 'objects'}")
    store_pages(session, store, tmp_path, count=5)
    first = run_fixity(session, store, limit=2)
    assert first.state is RunState.RUNNING and first.files_checked == 2

    monkeypatch.setattr(fixity, "BATCH_SIZE", 1)
    reads = []

    def failing_hash(reader):
        reads.append(1)
        if len(reads) == 2:
            raise storage.StorageUnavailable("the disk went away")
        return real_hash(reader)
    real_hash = fixity.hash_stream
    monkeypatch.setattr(fixity, "hash_stream", failing_hash)
    with pytest.raises(storage.StorageUnavailable):
        run_fixity(session, store)
    session.rollback()
    monkeypatch.setattr(fixity, "hash_stream", real_hash)

    resumed = run_fixity(session, store)
    assert resumed.id == first.id and resumed.state is RunState.DONE
    assert resumed.files_checked == 5  # 2, then 1 before the failure, then the last 2
    assert run_fixity(session, store).id != first.id  # a finished run is not resumed


def test_restart_abandons_an_unfinished_audit(session, tmp_path):
    store = storage.open_store(f"file://{tmp_path / 'objects'}")
    store_pages(session, store, tmp_path)
    stopped = run_fixity(session, store, limit=1)
    fresh = run_fixity(session, store, resume=False)
    assert fresh.id != stopped.id and fresh.files_checked == 3
    assert stopped.state is RunState.ABANDONED
    status = fixity_status(session)
    assert status.last_done.id == fresh.id and status.unfinished is None


def test_the_command_reports_problems_and_exits_1(tmp_path, database_url):
    app = make_test_app(tmp_path, database_url)
    khoso = app.extensions["khoso"]
    with app.app_context(), khoso.db.session() as opened:
        keys = store_pages(opened, khoso.store, tmp_path)
    runner = app.test_cli_runner()
    sound = runner.invoke(fixity_command, [])
    assert sound.exit_code == 0, sound.output
    assert "3 files" in sound.output and "finished" in sound.output
    khoso.store.delete(keys[1])
    found = runner.invoke(fixity_command, ["--limit", "10"])
    assert found.exit_code == 1
    assert f"missing      {keys[1]}" in found.output
    khoso.db.dispose()
