"""``khoso ingest``, ``khoso worker`` and ``khoso batch``: ingest from the command line.

``khoso ingest PATH...`` plans the batch, queues it, and by default also works on it: it runs a
queue consumer of its own until the batch is finished, so it needs no worker, and shares the work
with any ``khoso worker`` that runs. ``--json`` prints a summary for scripts. Exit status: 0 when
every file was ingested, 1 when some failed, 2 on a usage error.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from ingest import services
from ingest.config import IngestSettings, settings_from_config
from ingest.tasks import Runtime, TaskQueue, recover, single_threaded_ocr
from repository.collections import get_collection
from repository.errors import NotFound
from repository.models import IngestBatch
from viewer.extensions import parts

EXIT_OK, EXIT_SOME_FAILED = 0, 1
POLL_SECONDS = 0.5
FINAL_POLL_SECONDS = 0.1  # once every task left is running: the batch ends any moment now
CONSUMER_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def app_settings() -> IngestSettings:
    return settings_from_config(current_app.config, current_app.instance_path)


def app_runtime(settings: IngestSettings) -> Runtime:
    """The runtime of this process, on the app's own database and store."""
    return Runtime(settings, parts().db, parts().store)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path, resolve_path=True))
@click.option("--collection", "slug", required=True, help="Short name of the collection.")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path,
                                            resolve_path=True),
              help="CSV manifest: one row per item, a file column and Dublin Core columns.")
@click.option("--together", is_flag=True, help="All PATHs are the pages of one item.")
@click.option("--title", default="", help="Title of the item made with --together.")
@click.option("--languages", help="Tesseract languages, e.g. vie or vie+eng [default: vie].")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Work on the batch until it is finished, or only queue it.")
@click.option("--processes", type=click.IntRange(min=1),
              help="Worker processes while waiting [default: one per core].")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@with_appcontext
def ingest_command(paths: tuple[Path, ...], slug: str, manifest: Path | None, together: bool,
                   title: str, languages: str | None, wait: bool, processes: int | None,
                   as_json: bool) -> None:
    """Ingest PATH (page images, PDFs, a folder, a ZIP, a CSV manifest, SAF or BagIt) into the
    collection SLUG as draft items for review."""
    settings = app_settings()
    queue = TaskQueue(settings)
    with parts().db.session() as session:
        _collection(session, slug)  # a usage error before any worker starts
    # The workers start first: they load Tesseract while this process plans the batch.
    with running_workers(queue, processes or settings.processes) if wait \
            else contextlib.nullcontext() as consumer:
        with parts().db.session() as session:
            given = services.BatchInput(list(paths), manifest, together, title)
            batch, jobs = services.start_batch(
                session, _collection(session, slug), given, actor=None,
                work_root=settings.work_root, limits=settings.limits,
                options=settings.batch_options(slug, languages=languages))
            batch_id = batch.id
        queue.enqueue(jobs)
        if consumer is not None:
            _follow(batch_id, consumer, show=not as_json)
    sys.exit(report(batch_id, as_json))


def _collection(session, slug: str):
    try:
        return get_collection(session, slug)
    except NotFound as error:
        raise click.UsageError(f"no collection named {slug!r} (see: khoso collection list)") \
            from error


@contextlib.contextmanager
def running_workers(queue: TaskQueue, processes: int) -> Iterator[Any]:
    """A queue consumer of this process with ``processes`` workers, stopped on the way out."""
    single_threaded_ocr()
    queue.enqueue(recover(app_runtime(queue.settings), queue.pending))
    parts().db.engine.dispose()  # the worker processes must not share its connections
    handlers = {number: signal.getsignal(number) for number in CONSUMER_SIGNALS}
    # What the app has built so far lives until the end: kept out of the cyclic collector, the
    # forked workers leave its pages shared and this process exits without a last 0.5 s sweep.
    gc.freeze()
    consumer = queue.consumer(processes)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
        for number, handler in handlers.items():
            signal.signal(number, handler)


def _follow(batch_id: int, consumer, show: bool) -> None:
    done, health = 0, time.monotonic()
    with click.progressbar(length=_progress(batch_id).total or 1, label="Ingesting",
                           file=sys.stderr if show else _Silent(), show_pos=True) as bar:
        while True:
            current = _progress(batch_id)
            bar.length = max(current.total, 1)
            bar.update(current.finished - done)
            done = current.finished
            if current.to_json()["finished"]:
                return
            ending = current.total - current.finished <= current.running + 1  # + the item task
            health = _wait(consumer, health, FINAL_POLL_SECONDS if ending else POLL_SECONDS)


def _wait(consumer, health: float, seconds: float) -> float:
    from huey.consumer import ConsumerStopped

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = consumer.loop(health)
        except ConsumerStopped:
            raise click.ClickException("interrupted; the batch goes on when a worker runs "
                                       "(khoso worker)") from None
    return health


def _progress(batch_id: int) -> services.Progress:
    with parts().db.session() as session:
        return services.progress(session, session.get(IngestBatch, batch_id))


class _Silent:
    def write(self, _text: str) -> None:
        pass

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def report(batch_id: int, as_json: bool) -> int:
    """Print the batch's outcome; the exit status: 1 if a file failed (so far), else 0."""
    with parts().db.session() as session:
        data = services.summary(session.get(IngestBatch, batch_id))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_summary(data)
    return EXIT_SOME_FAILED if data["totals"]["failed"] else EXIT_OK


def _print_summary(data: dict) -> None:
    click.echo(f"batch {data['batch']}: {data['status']} ({data['totals']['done']} of "
               f"{data['totals']['files']} files, {data['totals']['pages']} pages)")
    for entry in data["files"]:
        item = f" → item {entry['handle']}" if entry["handle"] else ""
        error = entry["error"]
        reason = f": [{error['code']}] {error['message']}" if error else ""
        click.echo(f"  {entry['state']:8} {entry['file']}{item} ({entry['pages']} p.){reason}")


# -- khoso worker ------------------------------------------------------------------------------

@click.command("worker")
@click.option("--processes", type=click.IntRange(min=1),
              help="Worker processes [default: one per core].")
@with_appcontext
def worker_command(processes: int | None) -> None:
    """Work on ingest tasks from the queue (QUEUE_URL) until stopped (Ctrl-C, SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(message)s")
    single_threaded_ocr()
    settings = app_settings()
    queue = TaskQueue(settings)
    jobs = recover(app_runtime(settings), queue.pending)
    queue.enqueue(jobs)
    parts().db.engine.dispose()
    gc.freeze()  # as in running_workers: the workers share the app's pages
    count = processes or settings.processes
    click.echo(f"khoso worker: {count} processes on {settings.queue_url} "
               f"({len(jobs)} tasks recovered)", err=True)
    queue.consumer(count).run()


# -- khoso batch -------------------------------------------------------------------------------

batch_cli = AppGroup("batch", help="Ingest batches: list, show, retry.")


@batch_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def list_batches(limit: int) -> None:
    """The latest batches, newest first."""
    with parts().db.session() as session:
        for batch in session.scalars(select(IngestBatch).order_by(IngestBatch.id.desc())
                                     .limit(limit)):
            counts = services.progress(session, batch)
            click.echo(f"{batch.id}\t{batch.status.value}\t{counts.done}/{counts.total}\t"
                       f"{batch.collection.slug}\t{batch.source_name}")


@batch_cli.command("show")
@click.argument("batch_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def show_batch(batch_id: int, as_json: bool) -> None:
    """Every file of batch BATCH_ID with its state and error."""
    _batch_or_fail(batch_id)
    sys.exit(report(batch_id, as_json))


@batch_cli.command("retry")
@click.argument("batch_id", type=int)
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.option("--processes", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def retry_batch(batch_id: int, wait: bool, processes: int | None, as_json: bool) -> None:
    """Queue the failed files and pages of batch BATCH_ID again, and work on the batch until it
    is finished (also a batch queued with --no-wait)."""
    _batch_or_fail(batch_id)
    settings = app_settings()
    queue = TaskQueue(settings)
    with parts().db.session() as session:
        jobs = services.retry_failed(session, session.get(IngestBatch, batch_id))
    queue.enqueue(jobs)
    if wait and not _progress(batch_id).to_json()["finished"]:
        with running_workers(queue, processes or settings.processes) as consumer:
            _follow(batch_id, consumer, show=not as_json)
    sys.exit(report(batch_id, as_json))


def _batch_or_fail(batch_id: int) -> None:
    with parts().db.session() as session:
        if session.get(IngestBatch, batch_id) is None:
            raise click.UsageError(f"no batch {batch_id} (see: khoso batch list)")


commands = [ingest_command, worker_command, batch_cli]
