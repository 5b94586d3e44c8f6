"""Exports on the web: an item's Dublin Core XML for anyone who may see it; for staff, a
collection's metadata as CSV and its bulk edit back (upload, preview, confirm), BagIt bags and
DSpace SAF packages, sent as streamed ZIP files."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField

from repository import collections, exports, items
from repository.errors import InvalidInput
from repository.exports.bags import bag_files
from repository.exports.csv_edit import MAX_CSV_CHARS
from repository.exports.saf import package_items, saf_entries
from repository.exports.zipstream import folder_entries, zip_chunks
from repository.models import Collection
from viewer.auth import staff_required
from viewer.extensions import db_session, object_store
from viewer.identity import current_identity, policy
from viewer.streaming import content_disposition

bp = Blueprint("exports", __name__)

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class UploadForm(FlaskForm):
    file = FileField(_l("Edited CSV file"), validators=[
        FileRequired(message=_l("Choose the CSV file to upload."))])


class ConfirmForm(FlaskForm):
    csv_text = HiddenField()
    digest = HiddenField()


@bp.get("/items/<handle>/dublin-core.xml")
def item_dublin_core(handle: str):
    """Simple Dublin Core of an item, for anyone who may see its description."""
    item = items.find_item(db_session(), handle, current_identity(), policy())
    permalink = url_for("public.item", handle=item.handle, _external=True)
    body = exports.dublin_core_xml(item, identifiers=[permalink])
    return Response(body, mimetype="application/xml",
                    headers={"Content-Disposition": content_disposition(
                        f"{item.handle}-dublin-core.xml", "inline")})


@bp.get("/exports/collections/<slug>")
@staff_required
def collection(slug: str):
    found = collections.get_collection(db_session(), slug)
    page = request.args.get("page", 1, type=int) or 1
    listing = items.list_items(db_session(), found, current_identity(), policy(), page=page,
                               per_page=50)
    return render_template("exports/collection.html", collection=found, listing=listing,
                           form=UploadForm())


@bp.get("/exports/collections/<slug>/metadata.csv")
@staff_required
def collection_csv(slug: str):
    session = db_session()
    found = collections.get_collection(session, slug)
    text = exports.collection_csv(exports.collection_items(session, found))
    return Response(text.encode("utf-8"), mimetype=CSV_MEDIA_TYPE, headers={
        "Content-Disposition": content_disposition(f"{found.slug}-metadata.csv")})


@bp.post("/exports/collections/<slug>/bulk-edit")
@staff_required
def bulk_edit_preview(slug: str):
    found = collections.get_collection(db_session(), slug)
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_again(found, form)
    try:
        text = exports.read_csv_bytes(form.file.data.read(MAX_CSV_CHARS * 4 + 1))
    except InvalidInput as error:
        form.file.errors.append(_(error.template, **error.params))
        return _upload_again(found, form)
    edit = exports.preview_bulk_edit(db_session(), found, text)
    confirm = ConfirmForm(formdata=None, csv_text=text, digest=edit.digest)
    return render_template("exports/preview.html", collection=found, edit=edit, form=confirm)


def _upload_again(found: Collection, form: UploadForm):
    listing = items.list_items(db_session(), found, current_identity(), policy(), per_page=50)
    return render_template("exports/collection.html", collection=found, listing=listing,
                           form=form), 422


@bp.post("/exports/collections/<slug>/bulk-edit/apply")
@staff_required
def bulk_edit_apply(slug: str):
    session = db_session()
    found = collections.get_collection(session, slug)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for("exports.collection", slug=slug))
    edit = exports.apply_bulk_edit(session, found, form.csv_text.data or "",
                                   current_user.user, expected_digest=form.digest.data)
    session.commit()
    flash(ngettext("%(num)d item was changed.", "%(num)d items were changed.",
                   len(edit.items)), "success")
    return redirect(url_for("exports.collection", slug=slug))


@bp.get("/exports/items/<handle>/bag.zip")
@staff_required
def item_bag(handle: str):
    item = items.find_item(db_session(), handle, current_identity(), policy())
    work = Path(tempfile.mkdtemp(prefix="khoso-bag-"))
    try:
        bag = exports.bag_for_item(item, object_store(), work,
                                   organization=_library_name())
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    chunks = zip_chunks(folder_entries(work, bag_files(bag)))
    return _zip_response(_removing(chunks, work), f"{item.handle}-bag.zip")


@bp.get("/exports/collections/<slug>/saf.zip")
@staff_required
def collection_saf(slug: str):
    session = db_session()
    found = collections.get_collection(session, slug)
    # Everything the package needs is read now: the stream runs after the session is closed.
    entries = list(saf_entries(package_items(session, found), object_store()))
    return _zip_response(zip_chunks(entries), f"{found.slug}-saf.zip")


def _zip_response(chunks: Iterable[bytes], name: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="application/zip")
    response.headers["Content-Disposition"] = content_disposition(name)
    response.cache_control.no_store = True
    return response


def _removing(chunks: Iterable[bytes], folder: Path) -> Iterator[bytes]:
    """Pass ``chunks`` on, then delete ``folder`` (also when the client goes away)."""
    try:
        yield from chunks
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _library_name() -> str:
    return str(current_app.config.get("LIBRARY_NAME", ""))
