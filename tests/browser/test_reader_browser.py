"""The page viewer and the PDF view in headless Chromium: the first tile, zoom, page turns,
deep links, search inside with highlighted words, a view-only reader refused the PDF, a phone.

Set KHOSO_READER_SHOTS=/some/dir to also save phone and desktop screenshots there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.backends import service_missing
from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, serving
from tests.conftest import make_test_app
from tests.viewer.reader_helpers import PASSWORD, reading_library
from viewer import reader, vendor
from viewer.extensions import parts

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("KHOSO_READER_SHOTS")
PHONE, DESKTOP = {"width": 360, "height": 740}, {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def portal(tmp_path_factory, sqlite_template):
    """The portal with a small library, served on loopback; yields (base URL, books)."""
    work = tmp_path_factory.mktemp("reader-browser")
    shutil.copy(sqlite_template, work / "khoso.sqlite3")
    app = make_test_app(work, f"sqlite:///{work / 'khoso.sqlite3'}")
    for blueprint in (reader.bp, vendor.bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)
    if not (vendor.NODE_MODULES / "openseadragon").is_dir():
        service_missing("node_modules", "run `npm ci --omit=optional`")
    with app.app_context(), parts().db.session() as session:
        books = reading_library(session, parts().store, work, pages=12)
    with serving(app) as base:
        yield base, books
    app.extensions["khoso"].db.dispose()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        service_missing("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN")
    opened = context.new_page()
    opened.set_default_timeout(15000)
    yield opened
    context.close()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def wait_for_tiles(page, at_least: int = 1) -> None:
    page.wait_for_function(
        f"() => Number(document.getElementById('reader').dataset.tilesLoaded || 0) >= {at_least}")


def test_viewer_opens_zooms_and_turns_pages(portal, page):
    base, books = portal
    tiles = []
    page.on("response", lambda response: tiles.append(response) if "/iiif/3/" in response.url
            and response.url.endswith("default.jpg") and "/full/120," not in response.url
            else None)
    page.goto(f"{base}/items/{books['open'].handle}/read")
    wait_for_tiles(page)
    assert tiles and tiles[0].status == 200
    assert books["open"].uids[0] in tiles[0].url
    before = float(page.get_attribute("#reader", "data-zoom"))
    page.click("[data-action=zoom-in]")
    page.wait_for_function(
        f"() => Number(document.getElementById('reader').dataset.zoom) > {before * 1.3}")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#reader[data-page='2']")
    assert "page=2" in page.url
    page.click("[data-action=next]")
    page.wait_for_selector("#reader[data-page='3']")
    page.goto(f"{base}/items/{books['open'].handle}/read?page=9")
    wait_for_tiles(page)
    assert page.input_value("#reader-page-input") == "9"
    current = page.wait_for_selector(".thumb[aria-current=true]")
    assert current.get_attribute("data-page") == "9"
    page.click("[data-action=rotate]")
    page.wait_for_selector("#reader[data-rotation='90']")
    page.click("[data-action=spread]")
    page.wait_for_selector("#reader[data-shown='8,9']")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#reader[data-shown='10,11']")


def test_search_inside_highlights_the_words(portal, page):
    base, books = portal
    page.goto(f"{base}/items/{books['open'].handle}/read?q=tien%20du")
    page.wait_for_selector("#reader[data-page='2']")
    page.wait_for_function(
        "() => Number(document.getElementById('reader').dataset.highlights) >= 2")
    wait_for_tiles(page)
    highlight = page.locator(".reader-hl").first
    box, stage = highlight.bounding_box(), page.locator("#reader-osd").bounding_box()
    assert box["width"] > 3 and box["height"] > 3
    assert stage["x"] <= box["x"] <= stage["x"] + stage["width"]
    assert page.locator("#reader-hits li").count() >= 1
    page.wait_for_timeout(700)
    shot(page, "viewer-highlight-desktop")


def test_view_only_reader_has_no_download_and_is_refused_the_pdf(portal, page):
    base, books = portal
    handle = books["view-only"].handle
    page.goto(f"{base}/items/{handle}/read")
    wait_for_tiles(page)
    assert page.locator("#reader-download").count() == 0
    status = page.evaluate(f"fetch('/items/{handle}/document.pdf').then(r => r.status)")
    assert status == 401
    sign_in(page, base, "docgia")
    status = page.evaluate(f"fetch('/items/{handle}/document.pdf').then(r => r.status)")
    assert status == 403
    page.goto(f"{base}/items/{handle}")
    assert page.locator("a[href$='document.pdf?download=1']").count() == 0


def test_phone_toolbar_fits_without_horizontal_scroll(portal, browser):
    base, books = portal
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    phone = context.new_page()
    try:
        phone.goto(f"{base}/items/{books['open'].handle}/read?page=2&q=nguyen%20du")
        wait_for_tiles(phone)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        for button in phone.locator(".reader-tools .tool").all():
            if button.is_visible():
                box = button.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        phone.wait_for_function(
            "() => Number(document.getElementById('reader').dataset.highlights) >= 1")
        phone.wait_for_timeout(500)
        shot(phone, "viewer-highlight-phone")
        if SHOTS:
            phone.goto(f"{base}/items/{books['open'].handle}")
            shot(phone, "item-phone")
            phone.goto(f"{base}/items/{books['open'].handle}/pdf-view")
            phone.wait_for_selector("#pdf-view[data-rendered]")
            shot(phone, "pdf-phone")
    finally:
        context.close()


def test_pdf_view_draws_the_first_page_from_ranges(portal, page):
    base, books = portal
    ranges = []
    page.on("request", lambda request: ranges.append(request.headers.get("range"))
            if "document.pdf" in request.url else None)
    page.goto(f"{base}/items/{books['open'].handle}/pdf-view")
    page.wait_for_selector("#pdf-view[data-rendered='1']")
    assert page.locator("#pdf-total").inner_text() == "/ 12"
    assert ranges
    page.click("[data-action=next]")
    page.wait_for_selector("#pdf-view[data-rendered='2']")
    shot(page, "pdf-desktop")
    if SHOTS:
        page.goto(f"{base}/items/{books['open'].handle}")
        shot(page, "item-desktop")
