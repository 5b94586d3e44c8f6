"""``khoso serve``: the portal under gunicorn, and in the embedded set-up its ingest worker."""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from gunicorn.app.base import BaseApplication

from viewer import create_app

WORKER = "from viewer.cli import main; main()"
WORKER_STOP_SECONDS = 30


class PortalServer(BaseApplication):
    """Gunicorn with the portal built in each worker (nothing is built at import time)."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


@click.command("serve")
@click.option("--bind", default="127.0.0.1:5000", show_default=True, help="Address and port.")
@click.option("--workers", type=int, default=None,
              help="Worker processes [default: 2 per core, at most 8].")
@click.option("--threads", type=int, default=4, show_default=True,
              help="Threads per worker (long downloads do not block other readers).")
@click.option("--ingest-worker/--no-ingest-worker", default=None,
              help="Run `khoso worker` beside the portal [default: with the embedded SQLite "
                   "queue only; with Redis, run workers of their own].")
@with_appcontext
def serve_command(bind: str, workers: int | None, threads: int,
                  ingest_worker: bool | None) -> None:
    """Serve the portal with gunicorn."""
    count = workers or min(8, 2 * multiprocessing.cpu_count())
    if ingest_worker is None:
        ingest_worker = urlsplit(current_app.config["QUEUE_URL"]).scheme == "sqlite"
    click.echo(f"Khoso: http://{bind}/  ({count} workers"
               f"{', ingest worker' if ingest_worker else ''})")
    with _ingest_worker(ingest_worker):
        PortalServer({"bind": bind, "workers": count, "threads": threads,
                      "worker_class": "gthread", "timeout": 120, "accesslog": "-",
                      "forwarded_allow_ips": "127.0.0.1"}).run()


@contextlib.contextmanager
def _ingest_worker(wanted: bool) -> Iterator[None]:
    """``khoso worker`` as a child process, stopped (gracefully) when the server stops."""
    if not wanted:
        yield
        return
    from ingest.tasks import die_with_parent

    # The environment (KHOSO_INSTANCE_PATH, KHOSO_*) carries the same configuration over.
    worker = subprocess.Popen([sys.executable, "-c", WORKER, "worker"],
                              preexec_fn=die_with_parent)  # no threads yet: safe here
    try:
        yield
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGINT)  # Huey's graceful stop: finish the pages at hand
            try:
                worker.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
