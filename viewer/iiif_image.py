"""IIIF Image API 3.0, level 2, under /iiif/3/: each page's info.json and rendered images.

Every route finds the page through the access policy first. Images come from the derivative
cache with a strong ETag (a 304 touches no pixel) and canonical and profile Link headers.
Other sites may use (CORS ``*``) the images that anyone anywhere may view, and every error;
restricted images are for the portal's own viewer and are never stored by shared caches.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import BinaryIO

from flask import Blueprint, Response, current_app, g, redirect, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext
from werkzeug.wsgi import wrap_file

from repository.errors import PermissionDenied
from repository.images.cache import RenderCache
from repository.images.errors import ImageRequestError, UnsupportedImageRequest
from repository.images.info import CONTEXT, PROFILE_URI
from repository.images.pages import PageImage, find_page_image
from repository.images.params import Limits
from repository.images.service import ImageService, RenderPlan
from viewer.errors import render_error
from viewer.extensions import db_session
from viewer.identity import current_identity, policy
from viewer.usage import count_page_image

bp = Blueprint("iiif_image", __name__, url_prefix="/iiif/3")

JSON_LD = f'application/ld+json;profile="{CONTEXT}"'
CONTEXT_LINK = f'<{CONTEXT}>;rel="http://www.w3.org/ns/json-ld#context";type="application/ld+json"'


@bp.record_once
def _build_service(state: BlueprintSetupState) -> None:
    config = state.app.config  # defaults in viewer/config.py; KHOSO_IIIF_* overrides them
    cache_dir = config["IIIF_CACHE_DIR"] or Path(state.app.instance_path) / "iiif-cache"
    state.app.extensions["iiif_image"] = ImageService(
        state.app.extensions["khoso"].store,
        RenderCache(cache_dir, int(config["IIIF_CACHE_MAX_BYTES"])),
        limits=Limits(int(config["IIIF_MAX_WIDTH"]), int(config["IIIF_MAX_HEIGHT"]),
                      int(config["IIIF_MAX_AREA"])),
        tile_size=int(config["IIIF_TILE_SIZE"]),
        decoded_budget=int(config["IIIF_DECODED_CACHE_BYTES"]))


def image_service() -> ImageService:
    return current_app.extensions["iiif_image"]


@bp.get("/<identifier>")
def base_uri(identifier: str):
    """The image's base URI sends the client on to its info.json."""
    return redirect(url_for(".info", identifier=identifier), code=303)


@bp.get("/<identifier>/info.json")
def info(identifier: str):
    page = _find_page(identifier)
    count_page_image(page.uid)  # a viewer opens info.json once per page shown; tiles don't count
    service_id = url_for(".base_uri", identifier=page.uid, _external=True)
    body = json.dumps(image_service().info(page, service_id), ensure_ascii=False)
    wants_ld = request.accept_mimetypes.best_match(
        ["application/json", "application/ld+json"]) == "application/ld+json"
    response = Response(body, content_type=JSON_LD if wants_ld else "application/json")
    if not wants_ld:
        response.headers["Link"] = CONTEXT_LINK
    response.vary.add("Accept")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest())
    _cache_headers(response, page)
    return response.make_conditional(request)


@bp.get("/<identifier>/<region>/<size>/<rotation>/<quality_format>")
def image(identifier: str, region: str, size: str, rotation: str, quality_format: str):
    service = image_service()
    wanted = service.parse(region, size, rotation, quality_format)
    plan = service.plan(_find_page(identifier), wanted)
    response = Response(mimetype=plan.media_type, direct_passthrough=True)
    response.set_etag(plan.key)
    response.headers["Link"] = _image_links(plan)
    _cache_headers(response, plan.page)
    if request.if_none_match.contains_weak(plan.key):
        response.status_code = 304
        return response
    stream = service.open_rendered(plan)
    response.content_length = stream_length(stream)
    response.response = wrap_file(request.environ, stream)
    return response


def stream_length(stream: BinaryIO) -> int:
    """The size of a cache entry (an open file) or of a render served from memory."""
    if isinstance(stream, io.BytesIO):
        return stream.getbuffer().nbytes
    return os.fstat(stream.fileno()).st_size


def _find_page(identifier: str) -> PageImage:
    page = find_page_image(db_session(), identifier, policy(), current_identity)
    g.iiif_cross_origin = page.public
    return page


def _image_links(plan: RenderPlan) -> str:
    base = url_for(".base_uri", identifier=plan.page.uid, _external=True)
    return f'<{base}/{plan.request.canonical}>;rel="canonical",<{PROFILE_URI}>;rel="profile"'


def _cache_headers(response: Response, page: PageImage) -> None:
    response.cache_control.max_age = int(current_app.config["IIIF_MAX_AGE"])
    if page.public:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
        response.vary.add("Cookie")


@bp.after_request
def _cross_origin(response: Response) -> Response:
    # "*" never lets another site read with the reader's cookies; for restricted pages it
    # would still let a page open in a reading room read on-site-only images, hence none.
    if g.get("iiif_cross_origin", True):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(ImageRequestError)
def _image_request_error(exc: ImageRequestError):
    status = 501 if isinstance(exc, UnsupportedImageRequest) else 400
    return render_error(status, gettext(exc.template, **exc.params))


@bp.errorhandler(PermissionDenied)
def _no_view_right(_exc: PermissionDenied):
    """Anonymous readers may be able to sign in (401); signed-in ones are refused (403)."""
    return render_error(403 if current_identity().is_authenticated else 401)
