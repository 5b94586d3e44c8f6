"""The search page: Vietnamese full text with facets, snippets and links to the right page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from repository.discovery import search_items
from repository.harvest.search import search_partner_records
from repository.search import FACETS, SearchRequest, SearchUnavailable, Sort
from viewer.extensions import db_session, limiter, parts
from viewer.identity import current_identity, policy
from viewer.usage import count_search

bp = Blueprint("search", __name__)

MAX_QUERY_CHARS = 2000


def request_from_args(args: MultiDict) -> SearchRequest:
    """Read the query string forgivingly: unknown sorts, bad pages and long text are tamed."""
    try:
        sort = Sort(args.get("sort", Sort.RELEVANCE.value))
    except ValueError:
        sort = Sort.RELEVANCE
    filters = {name: frozenset(v[:200] for v in args.getlist(name) if v) for name in FACETS}
    return SearchRequest(query=args.get("q", "")[:MAX_QUERY_CHARS], sort=sort,
                         page=args.get("page", 1, type=int) or 1,
                         filters={k: v for k, v in filters.items() if v}).bounded()


@bp.get("/search")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
def search():
    search_request = request_from_args(request.args)
    try:
        page = search_items(db_session(), parts().search(), policy(), current_identity(),
                            search_request)
    except SearchUnavailable as exc:
        current_app.logger.error("search unavailable: %s", exc)
        return render_template("search.html", unavailable=True, search=search_request), 503
    count_search(search_request.query, search_request.page)
    partners = (search_partner_records(db_session(), search_request.query)
                if search_request.query and search_request.page == 1 else None)
    return render_template("search.html", page=page, search=search_request,
                           facet_url=facet_url, page_url=page_url, partners=partners)


def facet_url(name: str, value: str) -> str:
    """The same search with ``value`` of facet ``name`` toggled, back on the first page."""
    args = MultiDict(request.args)
    values = args.getlist(name)
    args.setlist(name, [v for v in values if v != value] if value in values else values + [value])
    args.pop("page", None)
    return url_for("search.search", **args.to_dict(flat=False))


def page_url(number: int) -> str:
    args = MultiDict(request.args)
    args["page"] = str(number)
    return url_for("search.search", **args.to_dict(flat=False))
