"""The staff pages of ingest: upload, batches with live progress and retry, the review queue.

Register with ``app.register_blueprint(ingest.web.bp)``; every route lives under /staff and is
for staff only. An upload is saved in the batch's work directory (streamed, never held whole in
memory) and planned by a worker, so the request ends as soon as the files are on disk.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from wtforms.fields.choices import SelectChoice

from ingest import review, services
from ingest.config import IngestSettings, settings_from_config
from ingest.errors import ALL_ERRORS
from ingest.forms import AcceptForm, ActionForm, MetadataForm, UploadForm, options
from ingest.tasks import TaskQueue
from ingest.work import Interrupted, Job, NoPages, WorkerLost
from repository.collections import get_collection
from repository.dublin_core import Statement
from repository.errors import RepositoryError
from repository.models import Collection, FileRole, IngestBatch, Item
from viewer.auth import staff_required
from viewer.extensions import db_session, object_store
from viewer.streaming import send_object

bp = Blueprint("ingest", __name__, url_prefix="/staff")
log = logging.getLogger(__name__)

ERROR_MESSAGES = {error.code: error.default
                  for error in (*ALL_ERRORS, WorkerLost, NoPages, Interrupted)}
STATE_LABELS = {"queued": _l("Waiting"), "running": _l("Working"), "done": _l("Done"),
                "failed": _l("Failed"), "partial": _l("Partly done"),
                "planning": _l("Unpacking and checking"), "retrying": _l("Waiting to retry")}
STATUS_LABELS = {"draft": _l("Draft"), "review": _l("Waiting for review"),
                 "published": _l("Published"), "withdrawn": _l("Withdrawn")}
SOURCE_LABELS = {"ocr": _l("text recognition"), "pdf:text": _l("the PDF's own text"),
                 "pdf:info": _l("the PDF's properties"), "xmp": _l("the file's XMP metadata"),
                 "exif": _l("the image's EXIF tags"), "file": _l("the file itself")}
EXTRA_ROWS = 3


@bp.before_request
@staff_required
def _staff_only() -> None:
    """Every route of the blueprint is for staff (readers 403, visitors to sign in)."""


@bp.app_template_filter("ingest_reason")
def reason(report: services.FileReport) -> str:
    """The reason a file failed, in the reader's language."""
    if report.template:
        return _(report.template, **report.params)
    default = ERROR_MESSAGES.get(report.error_code)
    return _(default) if default else report.error_message


@bp.context_processor
def _labels() -> dict:
    return {"state_labels": STATE_LABELS, "status_labels": STATUS_LABELS,
            "source_labels": SOURCE_LABELS}


# -- upload ------------------------------------------------------------------------------------

@bp.route("/upload", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    form.collection.choices = _collection_choices()
    if form.validate_on_submit():
        batch_id = start_upload(form)
        return redirect(url_for(".batch", batch_id=batch_id), code=303)
    return render_template("ingest/upload.html", form=form, section="upload")


def start_upload(form: UploadForm) -> int:
    """Save the files into a new batch's work directory and queue its planning."""
    settings = ingest_settings()
    session = db_session()
    collection = get_collection(session, form.collection.data)
    names = [upload.filename or "" for upload in form.files.data]
    batch = services.open_batch(
        session, collection, ", ".join(names)[:500], actor=current_user.user,
        options=settings.batch_options(collection.slug, languages=form.languages.data),
        work_root=settings.work_root)
    given = save_upload(form, Path(batch.work_dir))
    task = services.add_plan_task(session, batch, given)
    session.commit()
    enqueue([("plan", task.id)])
    return batch.id


def save_upload(form: UploadForm, work_dir: Path) -> services.BatchInput:
    folder = work_dir / "upload"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [_save(upload, folder, number)
             for number, upload in enumerate(form.files.data, start=1)]
    manifest = form.manifest.data
    manifest_path = _save(manifest, work_dir / "manifest", 1) \
        if isinstance(manifest, FileStorage) and manifest.filename else None
    return services.BatchInput(paths, manifest_path, form.layout.data == "pages",
                               form.title.data or "")


def _save(upload: FileStorage, folder: Path, number: int) -> Path:
    """Write one uploaded file under its own name (made safe), streamed in chunks."""
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(upload.filename or "", number)
    target = folder / name
    while target.exists():
        target = folder / f"{number}-{name}"
        number += 1
    upload.save(target)
    return target


def safe_name(filename: str, number: int) -> str:
    """The file's own name, NFC, without folders or characters a file system refuses."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(char for char in name if char.isprintable() and char not in '<>:"|?*')
    name = name.strip(" .")[:200]
    return name or f"file-{number}"


# -- batches -----------------------------------------------------------------------------------

@bp.get("/batches")
def batches():
    session = db_session()
    found = list(session.scalars(select(IngestBatch).order_by(IngestBatch.id.desc()).limit(50)))
    counts = {batch.id: services.progress(session, batch) for batch in found}
    return render_template("ingest/batches.html", batches=found, counts=counts,
                           section="batches")


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int):
    found = _batch(batch_id)
    return render_template("ingest/batch.html", batch=found,
                           progress=services.progress(db_session(), found),
                           files=services.file_reports(found), form=ActionForm(),
                           section="batches")


@bp.get("/batches/<int:batch_id>/progress.json")
def batch_progress(batch_id: int):
    return jsonify(services.progress(db_session(), _batch(batch_id)).to_json())


@bp.post("/batches/<int:batch_id>/retry")
def retry(batch_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    jobs = services.retry_failed(db_session(), _batch(batch_id))
    enqueue(jobs)
    flash(_("The failed files were queued again.") if jobs else _("Nothing to retry."), "info")
    return redirect(url_for(".batch", batch_id=batch_id), code=303)


def _batch(batch_id: int) -> IngestBatch:
    found = db_session().get(IngestBatch, batch_id)
    if found is None:
        abort(404)
    return found


# -- review ------------------------------------------------------------------------------------

@bp.get("/review")
def review_queue():
    listing = review.review_queue(db_session(), request.args.get("page", 1, type=int))
    return render_template("ingest/review.html", listing=listing, section="review")


@bp.get("/review/<handle>")
def review_item(handle: str):
    item = review.item_for_review(db_session(), handle)
    return _review_page(item, _metadata_form(item))


def _review_page(item: Item, form: MetadataForm, status: int = 200):
    return render_template(
        "ingest/review_item.html", item=item, form=form, accept_form=AcceptForm(),
        action_form=ActionForm(), suggestions=review.suggestions(db_session(), item),
        section="review"), status


@bp.post("/review/<handle>/metadata")
def save_metadata(handle: str):
    session = db_session()
    item = review.item_for_review(session, handle)
    form = MetadataForm()
    if form.validate_on_submit():
        statements = [Statement(row.element.data, row.value.data or "",
                                row.qualifier.data or None, row.language.data or None)
                      for row in form.rows if row.element.data and (row.value.data or "").strip()]
        if _attempt(review.update_metadata, session, item, statements, current_user.user):
            flash(_("The description was saved."), "info")
            return redirect(url_for(".review_item", handle=handle), code=303)
    return _review_page(item, form, 422)


@bp.post("/review/<handle>/accept")
def accept(handle: str):
    session = db_session()
    item = review.item_for_review(session, handle)
    form = AcceptForm()
    if form.validate_on_submit() and form.index.data.isdigit() and _attempt(
            review.accept, session, item, int(form.index.data), current_user.user):
        flash(_("The suggestion was added to the description."), "info")
    return redirect(url_for(".review_item", handle=handle, _anchor="suggestions"), code=303)


@bp.post("/review/<handle>/publish")
def publish(handle: str):
    session = db_session()
    item = review.item_for_review(session, handle)
    if ActionForm().validate_on_submit() and _attempt(review.publish, session, item,
                                                      current_user.user):
        flash(_("“%(title)s” is published.", title=item.title), "info")
        return redirect(url_for(".review_queue"), code=303)
    return redirect(url_for(".review_item", handle=handle), code=303)


@bp.get("/review/<handle>/pages/<int:sequence>/thumbnail")
def page_thumbnail(handle: str, sequence: int):
    item = review.item_for_review(db_session(), handle)
    page = next((page for page in item.pages if page.sequence == sequence), None)
    stored = next((f for f in (page.files if page else []) if f.role is FileRole.THUMBNAIL), None)
    if stored is None:
        abort(404)
    return send_object(object_store(), stored.storage_key, media_type=stored.media_type,
                       sha256=stored.sha256, public=False)


def _metadata_form(item: Item) -> MetadataForm:
    rows = [{"element": value.element, "qualifier": value.qualifier or "",
             "language": value.language or "", "value": value.value}
            for value in item.dc_values]
    form = MetadataForm(data={"rows": rows})
    for _extra in range(EXTRA_ROWS):
        form.rows.append_entry()
    return form


def _attempt(change, session, *args) -> bool:
    """Run one service call and commit; a refusal rolls back and is flashed, translated."""
    try:
        change(session, *args)
        session.commit()
    except RepositoryError as error:
        session.rollback()
        flash(_(error.template, **error.params), "error")
        return False
    return True


# -- helpers -----------------------------------------------------------------------------------

def ingest_settings() -> IngestSettings:
    return settings_from_config(current_app.config, current_app.instance_path)


def task_queue() -> TaskQueue:
    """The app's queue, built on first use (a producer only: it never runs tasks here)."""
    queue = current_app.extensions.get("ingest.queue")
    if queue is None:
        queue = current_app.extensions["ingest.queue"] = TaskQueue(ingest_settings())
    return queue


def enqueue(jobs: list[Job]) -> None:
    """Queue after the commit; if the queue is down, the tasks wait in the database and
    ``khoso worker`` finds them when it starts."""
    try:
        task_queue().enqueue(jobs)
    except Exception:  # noqa: BLE001 - the batch is safe in the database; recovery enqueues it
        log.exception("could not enqueue %d ingest tasks", len(jobs))
        flash(_("The work queue is not reachable; the batch starts when a worker runs."),
              "warning")


def _collection_choices() -> list[SelectChoice]:
    collections = db_session().scalars(select(Collection).order_by(Collection.title))
    return options((collection.slug, collection.title) for collection in collections)
