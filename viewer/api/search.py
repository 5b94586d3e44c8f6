"""Search, as the portal's search page does it: the same query language, facets and filter."""

from __future__ import annotations

from dataclasses import replace

from flask import current_app, request
from flask_babel import gettext as _

from repository.discovery import search_items
from repository.search import SearchUnavailable
from repository.search.backend import MAX_PER_PAGE as SEARCH_MAX_PER_PAGE
from repository.search.backend import MAX_RESULT_PAGE
from viewer.api.common import ApiError, PageLinks, bp, identity, int_arg, paged
from viewer.api.serialize import hit_json
from viewer.extensions import db_session, parts
from viewer.identity import policy
from viewer.search import request_from_args


@bp.get("/search")
def search():
    per_page = int_arg("per_page", 20, 1, SEARCH_MAX_PER_PAGE)
    int_arg("page", 1, 1, MAX_RESULT_PAGE)
    wanted = replace(request_from_args(request.args), per_page=per_page).bounded()
    try:
        found = search_items(db_session(), parts().search(), policy(), identity(), wanted)
    except SearchUnavailable as exc:
        current_app.logger.error("search unavailable: %s", exc)
        raise ApiError(503, _("Search is not available right now; try again shortly.")) from exc
    result = found.result
    facets = {name: [{"value": value.value, "count": value.count, "selected": value.selected}
                     for value in values] for name, values in result.facets.items()}
    links = PageLinks(wanted.page, wanted.per_page, result.total, result.last_page)
    return paged([hit_json(hit, found.handles.get(hit.item_id)) for hit in result.hits], links,
                 query=wanted.query, sort=wanted.sort.value, facets=facets)
