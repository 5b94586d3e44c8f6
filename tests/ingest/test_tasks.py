"""The work queue with real workers: ``khoso worker`` processes killed with SIGKILL mid-batch,
and two workers sharing a batch over Redis. Every page ends done exactly once, no stray objects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ingest.config import IngestSettings
from ingest.tasks import TaskQueue, make_huey
from repository.models import BatchStatus, IngestBatch, IngestTask, ItemFile, Page, TaskState
from tests.backends import REDIS_URL, service_missing
from tests.ingest.conftest import Station, station_app

LAUNCH = ("import sys; from viewer.cli import main; from ingest.cli import commands; "
          "[main.add_command(c) for c in commands if c.name not in main.commands]; main()")
PAGES = 8


def test_the_queue_is_built_from_the_url_with_the_tasks_on_it(tmp_path):
    settings = IngestSettings(work_root=tmp_path, queue_url=f"sqlite:///{tmp_path}/q.sqlite3")
    queue = TaskQueue(settings)
    assert {"ingest.tasks.ingest_page", "ingest.tasks.ingest_item", "ingest.tasks.ingest_plan",
            "ingest.tasks.ingest_recover"} <= set(queue.huey._registry._registry)
    queue.enqueue([("page", 3), ("item", 4)])
    assert queue.pending() == {("page", 3), ("item", 4)}
    with pytest.raises(ValueError, match="queue URL"):
        make_huey(settings.replace(queue_url="amqp://elsewhere"))


def pages(folder: Path, small_page: Path) -> list[Path]:
    folder.mkdir()
    targets = [folder / f"trang-{number}.png" for number in range(1, PAGES + 1)]
    for target in targets:
        os.link(small_page, target)
    return targets


def environment(tmp_path: Path, station: Station, **extra: str) -> dict[str, str]:
    config = station.app.config
    env = {**os.environ, "KHOSO_INSTANCE_PATH": str(tmp_path / "instance"),
           "KHOSO_SECRET_KEY": "test", "KHOSO_DATABASE_URL": config["DATABASE_URL"],
           "KHOSO_STORAGE_URL": config["STORAGE_URL"], "KHOSO_SEARCH_URL": config["SEARCH_URL"],
           "KHOSO_QUEUE_URL": config["QUEUE_URL"],
           "KHOSO_INGEST_WORK_ROOT": str(station.settings.work_root),
           "KHOSO_INGEST_RETRY_DELAY": "0", "PYTHONWARNINGS": "ignore"}
    return {**env, **extra}


def start_worker(env: dict[str, str], log: Path, processes: int = 2) -> subprocess.Popen:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "worker", "--processes", str(processes)],
            env=env, stdout=out, stderr=subprocess.STDOUT)


def states(station: Station, batch_id: int) -> Counter:
    with station.session() as session:
        return Counter(session.scalars(select(IngestTask.state).where(
            IngestTask.batch_id == batch_id, IngestTask.kind == "page")))


def wait_for(check, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out; worker log:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def finished(station: Station, batch_id: int) -> bool:
    with station.session() as session:
        return session.get(IngestBatch, batch_id).status is not BatchStatus.RUNNING


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def assert_exactly_once(station: Station, batch_id: int) -> None:
    with station.session() as session:
        assert session.get(IngestBatch, batch_id).status is BatchStatus.DONE
        assert set(states(station, batch_id)) == {TaskState.DONE}
        per_page = session.execute(select(Page.item_id, Page.sequence, func.count())
                                   .group_by(Page.item_id, Page.sequence)).all()
        assert len(per_page) == PAGES and {count for *_, count in per_page} == {1}
        keys = list(session.scalars(select(ItemFile.storage_key)))
    assert len(keys) == len(set(keys)) == PAGES * 7  # 5 per page, the PDF, the original
    assert station.object_keys() == set(keys)


@pytest.mark.slow
def test_a_batch_survives_kill_9_of_its_worker(tmp_path, database_url, vietnamese_png):
    # Whole pages (about a second each): the kill lands while one is being read.
    station = Station(station_app(tmp_path, database_url))
    batch_id, jobs = station.start(*pages(tmp_path / "scans", vietnamese_png))
    TaskQueue(station.settings).enqueue(jobs)
    log = tmp_path / "worker.log"
    first = start_worker(environment(tmp_path, station), log)
    try:
        wait_for(lambda: states(station, batch_id)[TaskState.DONE] >= 2
                 and states(station, batch_id)[TaskState.RUNNING] >= 1, 180, log)
        first.send_signal(signal.SIGKILL)
        first.wait()
        interrupted = _running(station, batch_id)
        assert interrupted, "the kill should have caught a page mid-run"
        second = start_worker(environment(tmp_path, station), log)
        try:
            wait_for(lambda: finished(station, batch_id), 240, log)
        finally:
            stop(second)
    finally:
        stop(first)
    assert_exactly_once(station, batch_id)
    with station.session() as session:
        redone = session.scalars(select(IngestTask.attempts).where(
            IngestTask.id.in_(interrupted))).all()
    assert set(redone) == {2}  # claimed by the killed worker, then once more


def _running(station: Station, batch_id: int) -> list[int]:
    with station.session() as session:
        return list(session.scalars(select(IngestTask.id).where(
            IngestTask.batch_id == batch_id, IngestTask.state == TaskState.RUNNING)))


@pytest.fixture
def redis_queue_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        service_missing("Redis", f"cannot connect to {REDIS_URL} ({error})")
    return REDIS_URL


@pytest.mark.redis
@pytest.mark.slow
def test_two_workers_share_a_batch_over_redis(tmp_path, database_url, small_page,
                                              redis_queue_url):
    name = f"khoso-test-{uuid.uuid4().hex[:8]}"
    app = station_app(tmp_path, database_url, QUEUE_URL=redis_queue_url, INGEST_QUEUE_NAME=name)
    station = Station(app)
    queue = TaskQueue(station.settings)
    log = tmp_path / "workers.log"
    env = environment(tmp_path, station, KHOSO_INGEST_QUEUE_NAME=name)
    workers = [start_worker(env, log, processes=1) for _ in range(2)]
    try:
        batch_id, jobs = station.start(*pages(tmp_path / "scans", small_page))
        queue.enqueue(jobs)
        wait_for(lambda: finished(station, batch_id), 240, log)
    finally:
        for worker in workers:
            stop(worker)
        queue.flush()
    assert_exactly_once(station, batch_id)
    with station.session() as session:
        results = session.scalars(select(IngestTask.result).where(IngestTask.kind == "page"))
        hosts = {(result["worker"]["host"], result["worker"]["pid"]) for result in results}
    assert len(hosts) == 2, "both workers should have taken pages"
