"""``khoso serve``: the portal under gunicorn."""

from __future__ import annotations

import multiprocessing

import click
from gunicorn.app.base import BaseApplication

from viewer import create_app


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
def serve_command(bind: str, workers: int | None, threads: int) -> None:
    """Serve the portal with gunicorn."""
    count = workers or min(8, 2 * multiprocessing.cpu_count())
    click.echo(f"Khoso: http://{bind}/  ({count} workers)")
    PortalServer({"bind": bind, "workers": count, "threads": threads,
                  "worker_class": "gthread", "timeout": 120, "accesslog": "-",
                  "forwarded_allow_ips": "127.0.0.1"}).run()
