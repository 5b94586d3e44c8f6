"""What every API view shares: the blueprint, JSON errors, paging and the caller's identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Blueprint, Response, g, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from repository.access import Identity
from repository.listing import MAX_PER_PAGE, Paged, Paging
from repository.models import User
from viewer.errors import render_error
from viewer.identity import current_identity

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PAGE = 1_000_000


class ApiError(HTTPException):
    """An HTTP error with a message for the client and optional headers."""

    def __init__(self, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        self.code = code
        self.extra_headers = dict(headers or {})
        super().__init__(description=message)


@bp.errorhandler(HTTPException)
def _json_error(exc: HTTPException):
    """Errors raised inside API views, as JSON (routing errors are JSON already for /api/)."""
    if exc.code is None or exc.code < 400:
        return exc
    message = exc.description if isinstance(exc, ApiError) else None
    body, status = render_error(exc.code, message)
    headers = dict(getattr(exc, "extra_headers", {}))
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return body, status, headers


def identity() -> Identity:
    return current_identity()


def api_user() -> User | None:
    """The account behind the request's token (None without a token)."""
    return g.get("api_user")


def require_staff() -> Identity:
    """Staff only: 401 without an account, 403 for a reader."""
    asking = identity()
    if not asking.is_authenticated:
        raise unauthorized(_("This needs a staff API token."))
    if not asking.is_staff:
        raise ApiError(403, _("This is for library staff only."))
    return asking


def unauthorized(message: str, error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="khoso"' + (f', error="{error}"' if error else "")
    return ApiError(401, message, {"WWW-Authenticate": challenge})


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad_request(_("The parameter %(name)s must be a whole number from %(low)d to "
                            "%(high)d.", name=name, low=low, high=high))
    return int(raw)


def paging() -> Paging:
    return Paging(page=int_arg("page", 1, 1, MAX_PAGE),
                  per_page=int_arg("per_page", 20, 1, MAX_PER_PAGE))


@dataclass(frozen=True)
class PageLinks:
    """The numbers of a listing page, for the body and the ``Link`` header."""

    page: int
    per_page: int
    total: int
    pages: int

    @classmethod
    def of(cls, listing: Paged) -> PageLinks:
        return cls(listing.paging.page, listing.paging.per_page, listing.total, listing.pages)

    def body(self) -> dict:
        return {"page": self.page, "per_page": self.per_page, "total": self.total,
                "pages": self.pages}

    def header(self) -> str:
        """RFC 8288 links to the first, previous, next and last pages, same query otherwise."""
        targets = {"first": 1, "last": self.pages}
        if self.page > 1:
            targets["prev"] = min(self.page - 1, self.pages)
        if self.page < self.pages:
            targets["next"] = self.page + 1
        return ", ".join(f'<{_page_url(number, self.per_page)}>; rel="{rel}"'
                         for rel, number in targets.items())


def _page_url(number: int, per_page: int) -> str:
    args = request.args.to_dict(flat=False)
    args.update(page=[str(number)], per_page=[str(per_page)])
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def paged(entries: list, links: PageLinks, **extra) -> Response:
    response = jsonify(items=entries, **links.body(), **extra)
    response.headers["Link"] = links.header()
    return response


def link(endpoint: str, **values) -> str:
    return url_for(endpoint, **values, _external=True)
