"""The web side of statistics: pages count their use, robots and addresses stay out, the
dashboard is for staff, and its exports open in a spreadsheet with Vietnamese intact."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from repository import accounts
from repository.fixity import FixityProblem, FixityRun, ProblemKind, RunState
from repository.models import Item, ItemStatus, Page, Role, utcnow
from repository.usage import UsageEvent, UsageKind, UsageMonthly
from tests.conftest import make_test_app
from tests.stats.helpers import BROWSER, GOOGLEBOT, TITLES, holdings
from viewer import stats, usage, vendor

PASSWORD = "correct horse battery"
ADDRESS = "203.0.113.77"


@pytest.fixture
def app(tmp_path, database_url):
    application = make_test_app(tmp_path, database_url)
    for blueprint in (stats.bp, vendor.bp):
        if blueprint.name not in application.blueprints:
            application.register_blueprint(blueprint)
    with application.app_context(), application.extensions["khoso"].db.session() as session:
        holdings(session)
        for username, role in (("thuthu", Role.STAFF), ("docgia", Role.READER)):
            accounts.create_user(session, username=username, password=PASSWORD, role=role)
    yield application
    application.extensions["khoso"].db.dispose()


def visitor(app, agent: str = BROWSER, address: str = ADDRESS, username: str | None = None):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    if username:
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302
    return client


def handles(app) -> list[str]:
    with app.extensions["khoso"].db.session() as session:
        return list(session.scalars(sa.select(Item.handle).order_by(Item.id)))


def counted(app) -> list[tuple[str, int | None, str | None]]:
    with app.extensions["khoso"].db.session() as session:
        return [(e.kind.value, e.item_id, e.query) for e in
                session.scalars(sa.select(UsageEvent).order_by(UsageEvent.id))]


# -- counting from the web -------------------------------------------------------------------

def test_item_pages_and_searches_are_counted_once_per_double_click(app):
    reader = visitor(app)
    first = handles(app)[0]
    for _ in range(2):
        assert reader.get(f"/items/{first}").status_code == 200
        assert reader.get("/search", query_string={"q": "Truyện Kiều"}).status_code == 200
    reader.get("/search", query_string={"q": "Truyện Kiều", "page": 2})
    reader.get("/search")  # no words: not a search
    assert counted(app) == [("view", 1, None), ("search", None, "truyện kiều")]


def test_robots_are_not_counted(app):
    visitor(app, agent=GOOGLEBOT).get(f"/items/{handles(app)[0]}")
    visitor(app, agent="python-requests/2.32").get("/search?q=Nghệ+An")
    assert counted(app) == []


def test_no_raw_ip_address_is_stored(app):
    reader = visitor(app)
    reader.get(f"/items/{handles(app)[1]}")
    reader.get("/search?q=Nghệ+An")
    with app.extensions["khoso"].db.engine.connect() as connection:
        for table in (UsageEvent.__table__, UsageMonthly.__table__):
            for row in connection.execute(sa.select(table)):
                assert all(ADDRESS not in str(value) for value in row), row
    assert len(counted(app)) == 2


def test_page_reads_and_downloads_are_counted_from_other_views(app):
    """The calls the IIIF and delivery views make: a page by its uid, a download whose
    later ranges are not counted again, and nothing for a draft."""
    with app.extensions["khoso"].db.session() as session:
        first, second, third = session.scalars(sa.select(Item).order_by(Item.id)).all()
        uid = session.scalar(sa.select(Page.uid).where(Page.item_id == second.id,
                                                       Page.sequence == 2))
        third.status = ItemStatus.DRAFT
    people = {"HTTP_USER_AGENT": BROWSER, "REMOTE_ADDR": ADDRESS}
    for ranged in (None, "bytes=0-65535", "bytes=65536-131071"):
        headers = {"Range": ranged} if ranged else {}
        with app.test_request_context("/x", headers=headers, environ_base=people):
            usage.count_download(first)
    with app.test_request_context("/x", environ_base=people):
        usage.count_page_image(uid)
        usage.count_page_image("no-such-page")
        usage.count_page(first, 1)
        usage.count_view(third)
    assert counted(app) == [("download", first.id, None), ("page", second.id, None),
                            ("page", first.id, None)]


def test_a_failure_to_count_never_breaks_the_page(app, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
    monkeypatch.setattr("viewer.usage.record_event", broken)
    assert visitor(app).get(f"/items/{handles(app)[0]}").status_code == 200
    assert "usage not counted" in caplog.text


# -- the dashboard ---------------------------------------------------------------------------

def test_the_dashboard_is_for_staff_only(app):
    assert visitor(app).get("/admin/stats/").status_code == 302  # to sign in
    reader = visitor(app, username="docgia")
    for path in ("/admin/stats/", "/admin/stats/export/item.csv",
                 "/admin/stats/export/collection.xlsx"):
        assert reader.get(path).status_code == 403


def add_fixity_problem(app) -> None:
    with app.extensions["khoso"].db.session() as session:
        run = FixityRun(state=RunState.DONE, started_at=utcnow(), finished_at=utcnow(),
                        cursor=9, files_checked=9, bytes_checked=9000, objects_listed=9,
                        problems=1)
        session.add(run)
        session.flush()
        session.add(FixityProblem(run_id=run.id, storage_key="items/abc/document.pdf",
                                  kind=ProblemKind.CHANGED, expected_sha256="a" * 64,
                                  found_sha256="b" * 64, detected_at=utcnow(),
                                  last_seen_at=utcnow()))


def test_the_dashboard_shows_use_holdings_and_fixity(app):
    reader = visitor(app)
    for handle in handles(app)[:2]:
        reader.get(f"/items/{handle}")
    reader.get("/search?q=Nghệ+An")
    add_fixity_problem(app)
    page = visitor(app, username="thuthu").get("/admin/stats/?months=24")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert TITLES[0] in html and TITLES[1] in html and "nghệ an" in html
    assert "items/abc/document.pdf" in html and 'role="alert"' in html
    charts = [json.loads(_unescape(raw)) for raw in re.findall(r"data-chart='([^']*)'", html)]
    assert [chart["type"] for chart in charts] == ["line", "line", "bar"]
    assert len(charts[0]["labels"]) == 24 and sum(charts[0]["series"][0]["data"]) == 2
    assert charts[1]["series"][0]["data"][-1] == 3 and charts[1]["series"][1]["data"][-1] == 6
    assert sorted(charts[2]["labels"]) == ["Báo", "Sách"]
    assert "<script>" not in html  # everything runs from files: the CSP allows no inline code


def _unescape(text: str) -> str:
    return text.replace("&#34;", '"').replace("&amp;", "&")


def test_chart_js_is_served_from_node_modules_and_nothing_else(app):
    client = app.test_client()
    with client.get("/static/vendor/chart.js/chart.umd.js") as response:
        assert response.status_code == 200 and b"Chart" in response.data[:5000]
        assert response.mimetype in ("text/javascript", "application/javascript")
        assert "max-age" in response.headers["Cache-Control"]
    for path in ("/static/vendor/chart.js/package.json", "/static/vendor/../package.json",
                 "/static/vendor/chart.js/dist/chart.umd.min.js"):
        assert client.get(path).status_code == 404
    with client.get("/static/stats.js") as response:
        assert response.status_code == 200


# -- exports ---------------------------------------------------------------------------------

def test_csv_export_keeps_vietnamese_titles(app):
    reader = visitor(app)
    first, second, _third = handles(app)
    reader.get(f"/items/{first}")
    visitor(app, address="198.51.100.9").get(f"/items/{first}")
    reader.get(f"/items/{second}")
    response = visitor(app, username="thuthu").get("/admin/stats/export/item.csv?months=6")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(rows[0]) == 7
    assert [row[1:5] for row in rows[1:]] == [[first, TITLES[0], "Hán Nôm", "2"],
                                              [second, TITLES[1], "Hán Nôm", "1"]]


def test_xlsx_exports_open_with_vietnamese_intact(app):
    reader = visitor(app)
    for handle in handles(app):
        reader.get(f"/items/{handle}")
    staff = visitor(app, username="thuthu")
    by_item = _workbook(staff.get("/admin/stats/export/item.xlsx"))
    assert {row[2] for row in by_item[1:]} == set(TITLES)
    assert all(row[4] == 1 for row in by_item[1:])
    by_collection = _workbook(staff.get("/admin/stats/export/collection.xlsx"))
    assert [row[1:4] for row in by_collection[1:]] == [("han-nom", "Hán Nôm", 3)]


def _workbook(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    return list(sheet.iter_rows(values_only=True))


def test_usage_kinds_cover_what_the_issue_asks():
    assert {kind.value for kind in UsageKind} == {"view", "page", "download", "search"}
