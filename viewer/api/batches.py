"""Ingest batches, for staff: progress per batch, the planning problems and the failed tasks."""

from __future__ import annotations

from flask import jsonify

from repository import listing
from viewer.api.common import PageLinks, bp, paged, paging, require_staff
from viewer.api.serialize import batch_json, task_json
from viewer.extensions import db_session


@bp.get("/batches")
def batch_list():
    require_staff()
    session = db_session()
    page = listing.list_batches(session, paging())
    counts = listing.task_counts(session, [batch.id for batch in page.entries])
    return paged([batch_json(batch, counts[batch.id]) for batch in page.entries],
                 PageLinks.of(page))


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int):
    require_staff()
    session = db_session()
    found = listing.get_batch(session, batch_id)
    counts = listing.task_counts(session, [found.id])[found.id]
    return jsonify({**batch_json(found, counts), "problems": found.problems or [],
                    "failures": [task_json(task) for task in listing.failed_tasks(session, found)]})
