"""The public pages: home with the collections, a collection's items, an item's description."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from repository import collections, items
from repository.citation import cite
from repository.dublin_core import DISPLAY_ORDER
from viewer.extensions import db_session
from viewer.identity import current_identity, policy
from viewer.labels import (
    ACCESS_LABELS,
    DC_LABELS,
    LANGUAGE_NAMES,
    QUERY_NOTES,
    STATUS_LABELS,
)
from viewer.usage import count_view

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    session = db_session()
    summaries = collections.summarize(
        session, collections.top_collections(session), current_identity(), policy())
    return render_template("home.html", summaries=summaries)


@bp.get("/collections/<slug>")
def collection(slug: str):
    session = db_session()
    found = collections.get_collection(session, slug)
    page = request.args.get("page", 1, type=int) or 1
    listing = items.list_items(session, found, current_identity(), policy(), page=page)
    children = collections.summarize(session, found.children, current_identity(), policy())
    return render_template("collection.html", collection=found, listing=listing,
                           children=children)


@bp.get("/items/<handle>")
def item(handle: str):
    found = items.find_item(db_session(), handle, current_identity(), policy())
    count_view(found)
    permalink = url_for("public.item", handle=found.handle, _external=True)
    return render_template("item.html", item=found, citation=cite(found, permalink),
                           permalink=permalink, display_order=DISPLAY_ORDER)


@bp.app_context_processor
def label_helpers() -> dict:
    return {"dc_labels": DC_LABELS, "status_labels": STATUS_LABELS,
            "language_names": LANGUAGE_NAMES, "access_labels": ACCESS_LABELS,
            "query_notes": QUERY_NOTES}
