"""/healthz: is the database answering and the object store reachable?"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import storage
from viewer.extensions import parts

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "storage": _check_storage()}
    healthy = all(result == "ok" for result in checks.values())
    return jsonify(status="ok" if healthy else "error", checks=checks), 200 if healthy else 503


def _check_database() -> str:
    try:
        with parts().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.error("health check: database: %s", exc)
        return "unavailable"
    return "ok"


def _check_storage() -> str:
    try:
        parts().store.check()
    except storage.StorageError as exc:
        log.error("health check: object store: %s", exc)
        return "unavailable"
    return "ok"
