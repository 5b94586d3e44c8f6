"""The statistics dashboard for staff: use over time, top items and searches, growth of the
holdings, the fixity audit's findings, and monthly counts as CSV or XLSX."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from repository import usage_reports
from repository.fixity import fixity_status
from repository.models import utcnow
from repository.usage import UsageKind
from viewer.auth import staff_required
from viewer.extensions import db_session
from viewer.spreadsheets import csv_response, xlsx_response

bp = Blueprint("stats", __name__, url_prefix="/admin/stats")

PERIODS = (6, 12, 24, 60)
DEFAULT_PERIOD = 12


@bp.get("/")
@staff_required
def dashboard():
    session, months = db_session(), _months()
    first, last = months[0], months[-1]
    totals = usage_reports.monthly_totals(session, months)
    grown = usage_reports.holdings(session, months)
    return render_template(
        "stats/dashboard.html", period=len(months), periods=PERIODS,
        totals={kind.value: sum(values) for kind, values in totals.items()},
        usage_chart=_usage_chart(months, totals), holdings=grown,
        holdings_chart=_holdings_chart(grown), type_chart=_type_chart(grown),
        top_items=usage_reports.top_items(session, first, last),
        top_queries=usage_reports.top_queries(session, first, last),
        fixity=fixity_status(session))


@bp.get("/export/<any(item, collection):by>.<any(csv, xlsx):fmt>")
@staff_required
def export(by: str, fmt: str):
    months = _months()
    rows = usage_reports.monthly_rows(db_session(), by, months[0], months[-1])
    header, lines = _export_table(by, rows)
    filename = f"khoso-usage-{by}-{months[0]:%Y-%m}-{months[-1]:%Y-%m}.{fmt}"
    if fmt == "csv":
        return csv_response(filename, header, lines)
    return xlsx_response(filename, _("Usage"), header, list(lines))


def _months() -> list[date]:
    period = request.args.get("months", DEFAULT_PERIOD, type=int)
    return usage_reports.last_months(utcnow(), period if period in PERIODS else DEFAULT_PERIOD)


def _export_table(by: str, rows):
    if by == "item":
        header = [_("Month"), _("Handle"), _("Title"), _("Collection")]
        lines = ([f"{r.month:%Y-%m}", r.code, r.title, r.collection, r.views, r.pages,
                  r.downloads] for r in rows)
    else:
        header = [_("Month"), _("Short name"), _("Collection")]
        lines = ([f"{r.month:%Y-%m}", r.code, r.title, r.views, r.pages, r.downloads]
                 for r in rows)
    return header + [_("Views"), _("Page reads"), _("Downloads")], lines


# -- chart data (read by static/stats.js from data-chart attributes) -----------------------

def _labels(months: list[date]) -> list[str]:
    return [format_date(month, "MM/yyyy") for month in months]


def _usage_chart(months: list[date], totals: dict[UsageKind, list[int]]) -> dict:
    names = {UsageKind.VIEW: _("Views"), UsageKind.PAGE: _("Page reads"),
             UsageKind.DOWNLOAD: _("Downloads"), UsageKind.SEARCH: _("Searches")}
    return {"type": "line", "labels": _labels(months),
            "series": [{"label": names[kind], "data": totals[kind]} for kind in UsageKind]}


def _holdings_chart(grown: usage_reports.Holdings) -> dict:
    return {"type": "line", "labels": _labels(grown.months), "series": [
        {"label": _("Items"), "data": grown.items},
        {"label": _("Digitized pages"), "data": grown.pages, "axis": "y2"}]}


def _type_chart(grown: usage_reports.Holdings) -> dict:
    return {"type": "bar", "horizontal": True,
            "labels": [value or _("(no type)") for value, _count in grown.by_type],
            "series": [{"label": _("Items"), "data": [count for _v, count in grown.by_type]}]}
