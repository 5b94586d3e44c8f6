"""One table from errors to responses: every error page is rendered, none shows a traceback."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

import storage
from repository import errors

log = logging.getLogger(__name__)

DOMAIN_STATUS = {
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.Gone: 410,
    errors.InvalidInput: 422,
    errors.Conflict: 409,
}

TITLES = {
    400: _l("Bad request"),
    401: _l("Please sign in"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    410: _l("No longer available"),
    413: _l("File too large"),
    416: _l("Range not satisfiable"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    501: _l("Not supported"),
    503: _l("Service unavailable"),
}

FALLBACK_PAGE = (
    '<!doctype html><html lang="vi"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{status} {title}</title><h1>{title}</h1><p>{message}</p></html>"
)

EXPLANATIONS = {
    403: _l("You do not have the right to see this. Sign in, or ask the library for access."),
    404: _l("We could not find this page. It may have moved; try the collections list."),
    410: _l("This document has been withdrawn from the collection."),
    413: _l("The upload is larger than the library allows."),
    429: _l("You have made too many requests. Please wait a moment and try again."),
    500: _l("The library's system hit an error. The staff have been told; please try again."),
    503: _l("Part of the system is not available right now. Please try again shortly."),
}


def init_app(app: Flask) -> None:
    app.register_error_handler(errors.RepositoryError, _domain_error)
    app.register_error_handler(storage.StorageError, _storage_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def render_error(status: int, message: str | None = None):
    title = TITLES.get(status, TITLES[500])
    text = message or EXPLANATIONS.get(status, "")
    if _wants_json():
        return jsonify(error=str(title), message=str(text), status=status), status
    try:
        page = render_template("errors/error.html", status=status, title=title, message=text)
    except Exception:  # the layout itself needs the database; fall back to a bare page
        log.exception("error page could not be rendered")
        page = FALLBACK_PAGE.format(status=status, title=escape(str(title)),
                                    message=escape(str(text)))
    return page, status


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _domain_error(exc: errors.RepositoryError):
    status = next((code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls)), 400)
    message = gettext(exc.template, **exc.params) if status in (409, 410, 422) else None
    return render_error(status, message)


def _storage_error(exc: storage.StorageError):
    if isinstance(exc, storage.ObjectNotFound):
        return render_error(404)
    if isinstance(exc, storage.InvalidRange):
        return render_error(416)
    log.error("object store error on %s: %s", request.path, exc)
    return render_error(503)


def _csrf_error(_exc: CSRFError):
    return render_error(400, _l("The form had expired. Please go back, reload it and try again."))


def _http_error(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    response = render_error(exc.code)
    if exc.code == 405 and exc.valid_methods:
        body, status = response
        return body, status, {"Allow": ", ".join(exc.valid_methods)}
    return response


def _unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s", request.path, exc_info=exc)
    return render_error(InternalServerError.code)
