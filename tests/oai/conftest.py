"""Fixtures of the OAI-PMH tests: a database on both backends, the portal with the OAI
endpoint, and a live server in a thread for real harvesters."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from repository.db import Database
from tests.conftest import make_test_app
from viewer import oai


@pytest.fixture
def database(any_database_url):
    database = Database(any_database_url)
    yield database
    database.dispose()


def oai_app(tmp_path, database_url: str, **config):
    """The portal with the OAI-PMH endpoint (registered here until the factory does it)."""
    config.setdefault("OAI_ADMIN_EMAIL", "thuvien@example.org")
    app = make_test_app(tmp_path, database_url, **config)
    if "oai" not in app.blueprints:
        oai.init_app(app)
    return app


@pytest.fixture
def provider_app(tmp_path, database_url):
    app = oai_app(tmp_path / "provider", database_url)
    yield app
    app.extensions["khoso"].db.dispose()


@contextmanager
def live_server(app):
    """Serve ``app`` on a free local port; yields the base URL (http://127.0.0.1:PORT)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
