"""Collections and items: listings, an item's description, and editing it (staff)."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from repository import collections, items, listing
from repository.access import Action
from repository.errors import N_, PermissionDenied
from repository.metadata_edit import Field, merge, statements_of, update_metadata
from repository.models import DC_ELEMENTS, ItemStatus, Page
from viewer.api.common import (
    PageLinks,
    api_user,
    bad_request,
    bp,
    identity,
    paged,
    paging,
    unauthorized,
)
from viewer.api.serialize import collection_json, item_detail_json, item_json
from viewer.extensions import db_session
from viewer.identity import policy


@bp.get("/collections")
def collection_list():
    session = db_session()
    found = listing.list_collections(session, paging())
    summaries = collections.summarize(session, found.entries, identity(), policy())
    return paged([collection_json(summary) for summary in summaries], PageLinks.of(found))


@bp.get("/collections/<slug>")
def collection(slug: str):
    session = db_session()
    found = collections.get_collection(session, slug)
    [summary] = collections.summarize(session, [found], identity(), policy())
    return jsonify(collection_json(summary))


@bp.get("/items")
def items_list():
    session = db_session()
    slug = request.args.get("collection")
    found = collections.get_collection(session, slug) if slug else None
    page = listing.list_items(session, identity(), policy(), paging(), collection=found,
                              statuses=_statuses())
    return paged([item_json(item) for item in page.entries], PageLinks.of(page))


def _statuses() -> list[ItemStatus]:
    try:
        return [ItemStatus(value) for value in request.args.getlist("status")]
    except ValueError:
        raise bad_request(_("The status must be draft, review, published or withdrawn.")) from None


@bp.get("/items/<handle>")
def item(handle: str):
    session = db_session()
    found = items.find_item(session, handle, identity(), policy())
    return jsonify(_detail(found))


def _detail(found) -> dict:
    page_count = db_session().scalar(select(func.count(Page.id)).where(Page.item_id == found.id))
    return item_detail_json(found, identity(), policy(), page_count or 0)


@bp.put("/items/<handle>/metadata")
def replace_item_metadata(handle: str):
    """Replace the whole description with the body's ``metadata`` list."""
    found = _editable(handle)
    statements = [field.statement(value) for field, value in _values(_body().get("metadata"))]
    update_metadata(db_session(), found, statements, api_user())
    db_session().commit()
    return jsonify(_detail(found))


@bp.patch("/items/<handle>/metadata")
def patch_item_metadata(handle: str):
    """Replace the values of the fields the body names; ``remove`` drops whole fields."""
    found = _editable(handle)
    body = _body()
    replacements: dict[Field, list[str]] = {key: [] for key in _fields(body.get("remove", []))}
    for key, value in _values(body.get("metadata", [])):
        replacements.setdefault(key, []).append(value)
    update_metadata(db_session(), found, merge(statements_of(found), replacements), api_user())
    db_session().commit()
    return jsonify(_detail(found))


def _editable(handle: str):
    if api_user() is None:
        raise unauthorized(_("Changes need a staff API token."))
    found = items.find_item(db_session(), handle, identity(), policy())
    if not policy().can(identity(), Action.EDIT, found):
        raise PermissionDenied(N_("Only library staff may change an item."))
    return found


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request(_("Send a JSON object (Content-Type: application/json)."))
    return body


def _values(entries) -> list[tuple[Field, str]]:
    if not isinstance(entries, list):
        raise bad_request(_("metadata must be a list of {element, qualifier, value, language}."))
    values = []
    for entry in entries:
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str):
            raise bad_request(_("Each metadata entry needs a value (a string)."))
        values.append((_field(entry), value))
    return values


def _fields(entries) -> list[Field]:
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise bad_request(_("remove must be a list of {element, qualifier, language}."))
    return [_field(entry) for entry in entries]


def _field(entry: dict) -> Field:
    element, qualifier, language = (entry.get(key) for key in ("element", "qualifier",
                                                                "language"))
    if element not in DC_ELEMENTS or not all(isinstance(part, str | None)
                                             for part in (qualifier, language)):
        raise bad_request(_("element must be one of the fifteen Dublin Core elements; "
                            "qualifier and language strings or null."))
    return Field(element, qualifier or None, language.lower() if language else None)
