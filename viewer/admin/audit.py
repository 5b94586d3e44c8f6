"""The audit log: who changed which right or account, when, old → new; filtered, paged,
and exported as CSV (UTF-8 with a byte-order mark, so that Excel shows Vietnamese)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request, stream_with_context
from flask_babel import gettext as _

from repository import audit_log
from repository.audit_log import AuditQuery
from repository.models import AuditEvent
from viewer.admin.common import bp, page_number, valid
from viewer.admin.forms import AuditFilter
from viewer.admin.labels import (
    ACTION_LABELS,
    ACTION_PREFIXES,
    action_label,
    field_label,
    format_value,
)
from viewer.extensions import db_session


@bp.get("/audit")
def audit():
    filters = AuditFilter(request.args)
    filters.validate()
    query = _query(filters)
    if request.args.get("format") == "csv":
        return _csv_response(query)
    found = audit_log.find_events(db_session(), query, page=page_number(), zone=_zone())
    return render_template(
        "admin/audit.html", filters=filters, listing=found, changes=audit_log.changes,
        names=audit_log.target_names(db_session(), found.events),
        actions=ACTION_LABELS, prefixes=ACTION_PREFIXES,
        csv_args={**request.args.to_dict(), "format": "csv", "page": None})


def _query(filters: AuditFilter) -> AuditQuery:
    """The filters that make sense; one that does not (a bad date) is left out."""
    return AuditQuery(
        action=valid(filters.action) or "", actor=valid(filters.actor) or "",
        target_type=valid(filters.target_type) or "", target=valid(filters.target) or "",
        since=valid(filters.since), until=valid(filters.until))


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _csv_response(query: AuditQuery) -> Response:
    rows = stream_with_context(_csv_lines(query))
    return Response(rows, mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=khoso-audit.csv"})


def _csv_lines(query: AuditQuery) -> Iterator[str]:
    """The header, then the events a chunk at a time; the first chunk starts with a BOM."""
    session, zone = db_session(), _zone()
    yield "\ufeff" + _csv_text([[
        _("When"), _("Changed by"), _("Action"), _("Action code"), _("Kind of target"),
        _("Target"), _("Name"), _("Changes"), _("Old values"), _("New values")]])
    for events in audit_log.iter_events(session, query, zone):
        names = audit_log.target_names(session, events)
        yield _csv_text([_csv_row(event, names, zone) for event in events])


def _csv_row(event: AuditEvent, names: dict[tuple[str, str], str],
             zone: ZoneInfo) -> list[str]:
    changed = "; ".join(f"{field_label(c.key)}: {format_value(c.key, c.old)} → "
                        f"{format_value(c.key, c.new)}" for c in audit_log.changes(event))
    return [event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"), event.actor_name,
            action_label(event.action), event.action, event.target_type, event.target_id,
            names.get((event.target_type, event.target_id), ""), changed,
            _json(event.old), _json(event.new)]


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([[_spreadsheet_safe(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def _spreadsheet_safe(cell: str) -> str:
    """Text a spreadsheet would take for a formula (=, +, -, @) is shown as text instead."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
