"""The parts the portal is built from (database, object store, i18n, login, CSRF), per app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

import storage
from repository.access import Policy
from repository.db import Database
from repository.indexing import index_after_commit
from repository.search import SearchBackend, open_search

babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits per client address (the one ProxyFix trusts). With several gunicorn workers the
# in-memory store counts per worker; KHOSO_RATELIMIT_STORAGE_URI=redis://... counts globally.
limiter = Limiter(key_func=get_remote_address, default_limits=[],
                  headers_enabled=True, strategy="moving-window")


@dataclass
class Parts:
    """What the factory built from configuration; views reach it through the helpers below."""

    db: Database
    store: storage.ObjectStore
    policy: Policy
    search_url: str
    _search: SearchBackend | None = None

    def search(self) -> SearchBackend:
        """The search backend, opened on first use so that a search outage only affects
        search (SearchUnavailable), not the whole portal."""
        if self._search is None:
            self._search = open_search(self.search_url)
        return self._search


def init_app(app: Flask) -> None:
    app.extensions["khoso"] = Parts(
        db=Database(app.config["DATABASE_URL"]),
        store=storage.open_store(app.config["STORAGE_URL"]),
        policy=Policy(),
        search_url=app.config["SEARCH_URL"],
    )
    khoso = app.extensions["khoso"]
    index_after_commit(khoso.db.sessionmaker, khoso.search, khoso.policy,
                       on_error=lambda exc: app.logger.error("indexing failed: %s", exc))
    from viewer.i18n import select_locale
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.teardown_appcontext(_close_session)


def parts() -> Parts:
    return current_app.extensions["khoso"]


def db_session() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = parts().db.sessionmaker()
    return g.db_session


def object_store() -> storage.ObjectStore:
    return parts().store


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
