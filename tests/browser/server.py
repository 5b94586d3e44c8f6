"""The portal served on a free loopback port from a thread, for a real browser to load."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def buffered(app):
    """Each response read whole and closed inside the application: when a browser drops a
    connection (it cancels tiles on every page turn), werkzeug's development server may skip
    closing the body, and an open cache file would be left to the garbage collector."""
    def application(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
    return application


@contextmanager
def serving(app, buffer: bool = True) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, buffered(app) if buffer else app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
