"""Reading: the page viewer, the IIIF manifest and content search of an item, its word boxes,
and delivery of its PDF (streamed with ranges, its page tree appended at the end for pdf.js,
watermarked when the rule asks) and of its original files.

Viewing pages and downloading are separate rights, and every route asks the access policy.
What anyone anywhere may view is answered for the anonymous reader, cached publicly and open
to other sites (CORS), like the page images; the rest is private to the asker.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import force_locale, gettext
from werkzeug.wsgi import ClosingIterator

import storage
from ingest.hocr import parse_hocr
from repository import items
from repository.access import Action, Identity
from repository.citation import cite
from repository.composed import AppendedObject, open_seekable
from repository.dublin_core import DISPLAY_ORDER
from repository.errors import N_, NotFound, PermissionDenied
from repository.file_rights import may_fetch
from repository.images.cache import RenderCache
from repository.indexing import search_filter
from repository.manifests import (
    PRESENTATION_CONTEXT,
    SEARCH_CONTEXT,
    UNSUPPORTED_SEARCH_PARAMETERS,
    ManifestText,
    ManifestUrls,
    manifest,
    search_response,
)
from repository.models import FileRole, Item, ItemFile
from repository.pdf_update import UPDATE_VERSION, StampError, page_update
from repository.reading import (
    AccessStatement,
    InsideHits,
    PageRef,
    PageWords,
    WordBoxes,
    access_statement,
    clamp_page,
    download_name,
    item_file,
    page_boxes,
    page_outline,
    require,
    search_pages,
)
from repository.search import SearchUnavailable, parse_query
from viewer.errors import render_error
from viewer.extensions import db_session, object_store, parts
from viewer.identity import current_identity, policy
from viewer.labels import DC_LABELS
from viewer.reading_words import AccessWords, describe
from viewer.streaming import content_disposition, send_object
from viewer.usage import count_download, count_page

bp = Blueprint("reader", __name__)

DOWNLOADABLE_ROLES = (FileRole.ORIGINAL, FileRole.MASTER)


@dataclass
class ReaderParts:
    cache: RenderCache
    words: WordBoxes


@bp.record_once
def _build(state: BlueprintSetupState) -> None:
    config = state.app.config  # defaults in viewer/config.py; KHOSO_READER_* overrides them
    folder = config["READER_CACHE_DIR"] or Path(state.app.instance_path) / "reader-cache"
    state.app.extensions["reader"] = ReaderParts(
        cache=RenderCache(folder, int(config["READER_CACHE_MAX_BYTES"])),
        words=WordBoxes(state.app.extensions["khoso"].store, hocr_words))


def hocr_words(data: bytes) -> PageWords:
    """Word boxes of an hOCR page, parsed by the ingest pipeline's own parser."""
    page = parse_hocr(data)
    return PageWords(page.width, page.height,
                     tuple((word["text"], *word["bbox"]) for word in page.words))


def reader_parts() -> ReaderParts:
    return current_app.extensions["reader"]


def setting(name: str):
    return current_app.config[name]


# -- the viewer --------------------------------------------------------------------------------

@bp.get("/items/<handle>/read")
def read(handle: str):
    identity = current_identity()
    item = items.find_item(db_session(), handle, identity, policy())
    statement = access_statement(identity, item, policy())
    if not statement.may_view:
        return render_template("reader_access.html", item=item, words=describe(statement)), \
            403 if identity.is_authenticated else 401
    pages = page_outline(db_session(), item)
    if not pages:
        raise NotFound(N_("This document has no pages to show"))
    number = clamp_page(request.args.get("page", type=int), len(pages))
    count_page(item, number)
    return render_template(
        "reader.html", item=item, pages=pages, page=number, query=request.args.get("q", ""),
        words=describe(statement), statement=statement, urls=_urls(item, False),
        pages_data=_pages_data(pages),
        has_pdf=item_file(db_session(), item, FileRole.PDF) is not None)


def _pages_data(pages: list[PageRef]) -> list[list]:
    """The viewer's compact page list: uid, width, height, and the label if not the number."""
    return [[page.uid, page.width, page.height]
            + ([page.label] if page.label != str(page.number) else []) for page in pages]


@bp.get("/items/<handle>/pdf-view")
def pdf_view(handle: str):
    identity = current_identity()
    item = items.find_item(db_session(), handle, identity, policy())
    require(policy(), identity, Action.DOWNLOAD, item)
    if item_file(db_session(), item, FileRole.PDF) is None:
        raise NotFound(N_("This document has no PDF"))
    return render_template("pdf_view.html", item=item)


# -- IIIF: manifest and content search ---------------------------------------------------------

@bp.get("/iiif/3/<handle>/manifest")
def iiif_manifest(handle: str):
    item, asker, public = _viewable(handle)
    pdf = item_file(db_session(), item, FileRole.PDF)
    downloadable = pdf is not None and policy().can(asker, Action.DOWNLOAD, item)
    body = manifest(item, page_outline(db_session(), item), _urls(item, downloadable),
                    _manifest_text(item))
    return _json_ld(body, PRESENTATION_CONTEXT, public)


@bp.get("/iiif/3/<handle>/search")
def content_search(handle: str):
    item, asker, public = _viewable(handle)
    hits = _search(item, asker, request.args.get("q", ""))
    ignored = [name for name in UNSUPPORTED_SEARCH_PARAMETERS if request.args.get(name)]
    body = search_response(hits, _urls(item, False), request.url, ignored)
    return _json_ld(body, SEARCH_CONTEXT, public)


@bp.get("/items/<handle>/pages/<int:number>/words")
def page_words(handle: str, number: int):
    """A page's word boxes on its canvas: those matching ``q``, or all its words."""
    item, _asker, public = _viewable(handle)
    page = next((ref for ref in page_outline(db_session(), item) if ref.number == number), None)
    if page is None:
        raise NotFound(N_("No such page"))
    query = request.args.get("q", "").strip()
    boxes = page_boxes(db_session(), reader_parts().words, page,
                       parse_query(query) if query else None)
    body = {"page": page.number, "width": page.width, "height": page.height,
            "words": [{"text": box.text, "x": box.x, "y": box.y, "w": box.w, "h": box.h}
                      for box in boxes]}
    return _json(body, "application/json", public)


def _viewable(handle: str) -> tuple[Item, Identity, bool]:
    """The item, who it is answered for, and whether that is everyone (public): an item that
    anyone anywhere may view, without a watermark, is answered for the anonymous reader."""
    anonymous = Identity.anonymous()
    item = items.find_item(db_session(), handle, current_identity(), policy())
    public = policy().can(anonymous, Action.VIEW_PAGES, item) and \
        policy().watermark_text(anonymous, item) is None
    asker = anonymous if public else current_identity()
    require(policy(), asker, Action.VIEW_PAGES, item)
    g.reader_cross_origin = public
    return item, asker, public


def _search(item: Item, asker: Identity, query: str) -> InsideHits:
    if not query.strip():
        return InsideHits(0, ())
    return search_pages(db_session(), parts().search(), search_filter(asker, policy()), item,
                        query, reader_parts().words)


def _urls(item: Item, downloadable: bool) -> ManifestUrls:
    marker = "00000000-0000-0000-0000-000000000000"
    image = url_for("iiif_image.base_uri", identifier=marker, _external=True)
    return ManifestUrls(
        manifest=url_for("reader.iiif_manifest", handle=item.handle, _external=True),
        homepage=url_for("public.item", handle=item.handle, _external=True),
        site=url_for("public.home", _external=True),
        canvas_prefix=url_for("reader.iiif_manifest", handle=item.handle,
                              _external=True).removesuffix("manifest") + "canvas/",
        image_prefix=image.removesuffix(marker),
        search=url_for("reader.content_search", handle=item.handle, _external=True),
        pdf=url_for("reader.document", handle=item.handle, _external=True)
        if downloadable else None)


def _manifest_text(item: Item) -> ManifestText:
    elements: dict[str, dict[str, list[str]]] = {name: {} for name in DISPLAY_ORDER}
    labels: dict[str, dict[str, list[str]]] = {"attribution": {}, "pdf": {}, "homepage": {}}
    for language in ("vi", "en"):
        with force_locale(language):
            for name in DISPLAY_ORDER:
                elements[name][language] = [str(DC_LABELS[name])]
            labels["attribution"][language] = [gettext("Citation")]
            labels["pdf"][language] = [gettext("Searchable PDF")]
            labels["homepage"][language] = [gettext("Description in the library's catalogue")]
    return ManifestText(elements, labels, {"vi": [current_app.config["LIBRARY_NAME"]]},
                        cite(item, url_for("public.item", handle=item.handle, _external=True)))


def _json_ld(body: dict, context: str, public: bool) -> Response:
    wants_plain = request.accept_mimetypes.best_match(
        ["application/ld+json", "application/json"]) == "application/json"
    media_type = "application/json" if wants_plain else f'application/ld+json;profile="{context}"'
    response = _json(body, media_type, public)
    response.vary.add("Accept")
    return response


def _json(body: dict, media_type: str, public: bool) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = Response(text, content_type=media_type)
    response.set_etag(hashlib.sha256(text.encode()).hexdigest())
    _cache(response, public)
    return response.make_conditional(request)


def _cache(response: Response, public: bool) -> None:
    response.cache_control.max_age = int(setting("READER_MAX_AGE"))
    if public:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
        response.vary.add("Cookie")


# -- delivery: the PDF and original files -----------------------------------------------------

@bp.get("/items/<handle>/document.pdf")
def document(handle: str):
    """The searchable PDF: inline for pdf.js (ranges), as an attachment with ``?download=1``."""
    identity = current_identity()
    item = items.find_item(db_session(), handle, identity, policy())
    require(policy(), identity, Action.DOWNLOAD, item)
    stored = item_file(db_session(), item, FileRole.PDF)
    if stored is None:
        raise NotFound(N_("This document has no PDF"))
    attachment = request.args.get("download") == "1"
    count_download(item)
    watermark = None if identity.is_staff else policy().watermark_text(identity, item)
    if attachment and not watermark:
        return _send_stored(item, stored, download_name(item, "pdf"), attachment)
    return _send_updated(item, stored, watermark, attachment)


@bp.get("/items/<handle>/original/<int:file_id>")
def original(handle: str, file_id: int):
    """A file as uploaded, or a page's full-resolution master, as an attachment."""
    identity = current_identity()
    item = items.find_item(db_session(), handle, identity, policy())
    require(policy(), identity, Action.DOWNLOAD, item)
    stored = db_session().get(ItemFile, file_id)
    if stored is None or stored.item_id != item.id or stored.role not in DOWNLOADABLE_ROLES:
        raise NotFound(N_("No such file"))
    if not may_fetch(policy(), identity, item, stored):
        raise PermissionDenied(N_("This document is delivered with a watermark: read it in the "
                                  "viewer or download its PDF"))
    count_download(item)
    extension = stored.storage_key.rsplit(".", 1)[-1]
    return _send_stored(item, stored, stored.original_name or download_name(item, extension),
                        attachment=True)


def _send_stored(item: Item, stored: ItemFile, name: str, attachment: bool) -> Response:
    public = _open_download(item)
    if attachment and public and stored.size >= int(setting("READER_PRESIGN_MIN_BYTES")):
        url = object_store().presign(
            stored.storage_key, datetime.timedelta(seconds=int(setting("READER_PRESIGN_SECONDS"))))
        if url:
            return redirect(url, code=302)
    response = send_object(object_store(), stored.storage_key, media_type=stored.media_type,
                           sha256=stored.sha256, download_name=name, public=public,
                           max_age=int(setting("READER_MAX_AGE")))
    return _disposition(response, name, attachment, public)


def _send_updated(item: Item, stored: ItemFile, watermark: str | None,
                  attachment: bool) -> Response:
    """The PDF with an incremental update appended (its page tree at the end, so that pdf.js
    draws page 1 after a few ranges; and the watermark, if any). The update is made once per
    (PDF, watermark) into the local cache; the PDF itself is streamed from the store."""
    key = hashlib.sha256(f"{UPDATE_VERSION}\n{stored.sha256}\n{watermark or ''}".encode()
                         ).hexdigest()
    info = object_store().stat(stored.storage_key)
    try:
        tail = reader_parts().cache.open(key, ".pdf-update",
                                         lambda out: out.write(_update(stored, info, watermark)))
    except StampError as exc:
        if watermark:
            raise
        current_app.logger.warning("PDF %s sent as it is: %s", stored.storage_key, exc)
        return _send_stored(item, stored, download_name(item, "pdf"), attachment)
    whole = AppendedObject(object_store(), stored.storage_key, info.size, info.modified, tail)
    public = watermark is None and _open_download(item)
    name = download_name(item, "pdf")
    response = send_object(whole, stored.storage_key, media_type="application/pdf",
                           sha256=key, download_name=name, public=public,
                           max_age=int(setting("READER_MAX_AGE")))
    # Streamed bodies bypass the response's own close(): the body closes the file, and
    # close() does when there is no body to stream (a 304).
    response.response = ClosingIterator(response.response, tail.close)
    response.call_on_close(tail.close)
    return _disposition(response, name, attachment, public)


def _update(stored: ItemFile, info: storage.ObjectInfo, watermark: str | None) -> bytes:
    with open_seekable(object_store(), stored.storage_key, info.size) as source:
        return page_update(source, watermark)


def _disposition(response: Response, name: str, attachment: bool, public: bool) -> Response:
    if response.status_code in (200, 206):
        response.headers["Content-Disposition"] = content_disposition(
            name, "attachment" if attachment else "inline")
    if not public:
        response.vary.add("Cookie")
    return response


def _open_download(item: Item) -> bool:
    """Whether anyone anywhere may download the item as it is (no watermark)."""
    anonymous = Identity.anonymous()
    return policy().can(anonymous, Action.DOWNLOAD, item) and \
        policy().watermark_text(anonymous, item) is None


# -- the item page's access statement, and errors --------------------------------------------

@dataclass(frozen=True)
class ReadingAccess:
    statement: AccessStatement
    words: AccessWords
    has_pdf: bool


@bp.app_context_processor
def _reading_helpers() -> dict:
    return {"reading_access": reading_access}


def reading_access(item: Item) -> ReadingAccess:
    """For the item page: what the reader may do with ``item``, in words."""
    statement = access_statement(current_identity(), item, policy())
    return ReadingAccess(statement, describe(statement),
                         item_file(db_session(), item, FileRole.PDF) is not None)


@bp.after_request
def _cross_origin(response: Response) -> Response:
    if g.get("reader_cross_origin"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(PermissionDenied)
def _refused(_exc: PermissionDenied):
    """Anonymous readers may be able to sign in (401); signed-in ones are refused (403)."""
    return render_error(403 if current_identity().is_authenticated else 401)


@bp.errorhandler(SearchUnavailable)
def _search_down(exc: SearchUnavailable):
    current_app.logger.error("search inside unavailable: %s", exc)
    return render_error(503)
