"""Reading benchmark: what a reader waits for and downloads before the first page shows.

Usage: python bench/reader_bench.py [--workdir DIR] [--pdf-pages 300] [--viewer-pages 1000]

A fresh instance gets two items: a 300-page scanned-style PDF (a JPEG and a text line per page)
and a 1,000-page item (database rows and small stored page images). The portal is served on
loopback and headless Chromium (/usr/bin/chromium) opens:

* the PDF view: bytes of the PDF transferred (counted by the browser, aborted requests
  included) and the time until pdf.js has drawn page 1, against the file's size; once with the
  portal's settings (ranges only) and once with pdf.js's whole-file stream left on;
* the page viewer of the 1,000-page item, and of a 10-page one for comparison: the manifest's
  and the viewer page's sizes, the time until OpenSeadragon has its first tile, and how many
  thumbnails the strip fetched.

The front-end libraries' sizes (raw and gzipped) are reported apart: pdf.js's worker is fetched
by the worker, which the page's traffic count does not see.

Each is measured on loopback and on an emulated regional mobile link (150 ms, 1.6 Mbit/s down),
cold (new browser profile) and warm (the same profile again). Results: bench/results/reader.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "reader.json"
REGIONAL = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 // 8,
            "uploadThroughput": 750_000 // 8}
ROUNDS = 3
sys.path.insert(0, str(ROOT))


def build_portal(work: Path):
    from repository import migrate
    from viewer import create_app, reader, vendor

    database = f"sqlite:///{work / 'khoso.sqlite3'}"
    migrate.upgrade(database)
    app = create_app({"SECRET_KEY": "bench", "INSTANCE_PATH": str(work / "instance"),
                      "DATABASE_URL": database, "STORAGE_URL": f"file://{work / 'objects'}",
                      "SEARCH_URL": f"tantivy://{work / 'index'}", "RATELIMIT_ENABLED": False,
                      "ADMIN_PASSWORD": "bench-admin-password"})
    for blueprint in (reader.bp, vendor.bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)
    return app


def make_items(app, work: Path, pdf_pages: int, viewer_pages: int) -> dict:
    from tests.viewer.reader_helpers import text_pdf
    from viewer.extensions import parts

    started = time.monotonic()
    pdf = text_pdf(work / "gazetteer.pdf", [[f"Dia chi tinh - trang {n}"]
                                            for n in range(1, pdf_pages + 1)],
                   image_size=(1000, 1414), quality=35)
    with app.app_context(), parts().db.session() as session:
        pdf_item = _item(session, "bench-pdf", "Địa chí 300 trang", pdf=pdf)
        big = _item(session, "bench-viewer", "Địa bạ 1.000 trang")
        _pages(session, parts().store, big, viewer_pages, work)
        small = _item(session, "bench-small", "Địa bạ 10 trang")
        _pages(session, parts().store, small, 10, work)
        handles = {"pdf": pdf_item.handle, "viewer": big.handle, "small": small.handle}
    print(f"items made in {time.monotonic() - started:.0f} s", flush=True)
    return {**handles, "pdf_bytes": pdf.stat().st_size}


def _item(session, slug: str, title: str, pdf: Path | None = None):
    from repository import collections, items
    from repository.access_rules import RuleChange, set_rule
    from repository.dublin_core import Statement
    from repository.files import add_file
    from repository.models import AccessLevel, FileRole, ItemStatus
    from viewer.extensions import parts

    collection = collections.create_collection(session, slug=slug, title="Bench")
    set_rule(session, None, RuleChange(metadata=AccessLevel.OPEN, view=AccessLevel.OPEN,
                                       download=AccessLevel.OPEN), collection=collection)
    item = items.create_item(session, collection, [Statement("title", title)])
    if pdf is not None:
        add_file(session, parts().store, item, FileRole.PDF, pdf,
                 media_type="application/pdf", extension="pdf")
        _pages(session, parts().store, item, 1, pdf.parent)
    items.change_status(session, item, ItemStatus.PUBLISHED)
    return item


def _pages(session, store, item, count: int, work: Path) -> None:
    from PIL import Image, ImageDraw

    from repository.files import add_file
    from repository.models import FileRole, Page

    master, thumbnail = work / f"{item.handle}-master.jpg", work / f"{item.handle}-thumb.jpg"
    image = Image.effect_noise((1240, 1754), 20).point(lambda value: 170 + value // 4)
    draw = ImageDraw.Draw(image)
    for row in range(120, 1650, 48):
        draw.rectangle((110, row, 1130 - (row * 7) % 300, row + 18), fill=50)
    image.save(master, quality=60)
    image.resize((120, 170)).save(thumbnail, quality=70)
    for number in range(1, count + 1):
        page = Page(item=item, sequence=number, label=str(number), width=1240, height=1754,
                    text=f"Trang {number}")
        session.add(page)
        add_file(session, store, item, FileRole.MASTER, master, media_type="image/jpeg",
                 extension="jpg", page=page)
        add_file(session, store, item, FileRole.THUMBNAIL, thumbnail, media_type="image/jpeg",
                 extension="jpg", page=page)
    session.flush()


class Traffic:
    """Bytes the browser received per URL, from the DevTools protocol (aborts included)."""

    def __init__(self, context, page, throttle: dict | None) -> None:
        self.urls: dict[str, str] = {}
        self.received: dict[str, int] = {}
        self.cdp = context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        if throttle:
            self.cdp.send("Network.emulateNetworkConditions", throttle)
        self.cdp.on("Network.requestWillBeSent", self._request)
        self.cdp.on("Network.dataReceived", self._data)

    def _request(self, event) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _data(self, event) -> None:
        request = event["requestId"]
        self.received[request] = self.received.get(request, 0) + event["encodedDataLength"]

    def bytes_for(self, fragment: str) -> int:
        return sum(size for request, size in self.received.items()
                   if fragment in self.urls.get(request, ""))

    def count(self, fragment: str) -> int:
        return sum(fragment in url for url in self.urls.values())

    def total(self) -> int:
        return sum(self.received.values())


def open_pdf(browser, base: str, handle: str, throttle, stream: bool) -> dict:
    context = browser.new_context(viewport={"width": 412, "height": 915})
    page = context.new_page()
    if stream:  # pdf.js's default whole-file stream, for comparison
        page.route("**/static/pdf-view.js", lambda route: route.fulfill(
            body=(ROOT / "viewer/static/pdf-view.js").read_text().replace(
                "disableStream: true", "disableStream: false"),
            content_type="text/javascript"))
    traffic = Traffic(context, page, throttle)
    timings, counted = [], []
    for _ in range(2):   # cold, then warm (the libraries are in the browser's cache)
        started = time.monotonic()
        page.goto(f"{base}/items/{handle}/pdf-view")
        page.wait_for_selector("#pdf-view[data-rendered='1']", timeout=120_000)
        timings.append(time.monotonic() - started)
        page.wait_for_timeout(300)
        counted.append((traffic.bytes_for("document.pdf"), traffic.total()))
    (cold_pdf, cold_total), (both_pdf, _) = counted
    warm_pdf = both_pdf - cold_pdf
    context.close()
    return {"first_page_s_cold": round(timings[0], 3), "first_page_s_warm": round(timings[1], 3),
            "pdf_bytes_cold": cold_pdf, "pdf_bytes_warm": warm_pdf, "all_bytes_cold": cold_total}


def open_viewer(browser, base: str, handle: str, throttle) -> dict:
    context = browser.new_context(viewport={"width": 412, "height": 915})
    page = context.new_page()
    traffic = Traffic(context, page, throttle)
    timings, counted = [], []
    for _ in range(2):
        started = time.monotonic()
        page.goto(f"{base}/items/{handle}/read")
        page.wait_for_selector("#reader[data-tiles-loaded]", timeout=120_000)
        timings.append(time.monotonic() - started)
        page.wait_for_timeout(1000)
        counted.append((traffic.total(), traffic.count("/full/120,/0/")))
    cold_total, thumbnails = counted[0]
    context.close()
    return {"first_tile_s_cold": round(timings[0], 3), "first_tile_s_warm": round(timings[1], 3),
            "all_bytes_cold": cold_total, "thumbnails_fetched": thumbnails}


def sizes(base: str, handles: dict) -> dict:
    import gzip
    import urllib.request

    def size(path: str, packed: bool = False) -> int:
        with urllib.request.urlopen(base + path) as response:  # noqa: S310 - loopback
            body = response.read()
        return len(gzip.compress(body)) if packed else len(body)
    return {"manifest_bytes": size(f"/iiif/3/{handles['viewer']}/manifest"),
            "manifest_gzip_bytes": size(f"/iiif/3/{handles['viewer']}/manifest", packed=True),
            "manifest_bytes_10_pages": size(f"/iiif/3/{handles['small']}/manifest"),
            "viewer_page_bytes": size(f"/items/{handles['viewer']}/read")}


def libraries() -> dict:
    import gzip

    from viewer.vendor import NODE_MODULES, VENDOR_FILES
    found = {}
    for name in ("openseadragon/openseadragon.min.js", "pdfjs/pdf.min.mjs",
                 "pdfjs/pdf.worker.min.mjs"):
        data = (NODE_MODULES / VENDOR_FILES[name]).read_bytes()
        found[name] = {"bytes": len(data), "gzip_bytes": len(gzip.compress(data))}
    return found


def memory_check(work: Path, megabytes: int) -> dict:
    """Peak RSS while a big PDF's update is made and the PDF is streamed whole (run alone);
    the peak is reset first (Linux), so that building the instance does not count."""
    from viewer.extensions import parts

    app = build_portal(work)
    pdf = big_pdf(work / "big.pdf", megabytes)
    with app.app_context(), parts().db.session() as session:
        handle = _item(session, "bench-big", "Tệp lớn", pdf=pdf).handle
    Path("/proc/self/clear_refs").write_text("5")     # VmHWM := VmRSS
    before = _status_mb("VmRSS")
    started, sent = time.monotonic(), 0
    with app.test_client().get(f"/items/{handle}/document.pdf", buffered=False) as response:
        for chunk in response.response:
            sent += len(chunk)
    return {"pdf_bytes": pdf.stat().st_size, "streamed_bytes": sent,
            "seconds": round(time.monotonic() - started, 2),
            "rss_before_mb": before, "rss_peak_mb": _status_mb("VmHWM")}


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise LookupError(field)


def big_pdf(path: Path, megabytes: int, per_page: int = 4 * 1024**2) -> Path:
    """A valid PDF of about ``megabytes`` MB, written object by object in constant memory:
    each page draws nothing but owns a form XObject padded with random bytes."""
    pages = max(2, megabytes * 1024**2 // per_page)
    offsets: list[int] = []
    with path.open("wb") as out:
        def obj(body: bytes, stream_size: int = 0) -> None:
            offsets.append(out.tell())
            out.write(f"{len(offsets)} 0 obj\n".encode() + body)
            if stream_size:
                out.write(b"\nstream\n")
                for _ in range(stream_size // 1024**2):
                    out.write(os.urandom(1024**2))
                out.write(b"\nendstream")
            out.write(b"\nendobj\n")
        out.write(b"%PDF-1.4\n")
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(pages))
        obj(f"<< /Type /Pages /Count {pages} /Kids [{kids}] >>".encode())
        obj(b"<< /Length 0 >>\nstream\n\nendstream")
        for n in range(pages):
            obj(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R "
                f"/Resources << /XObject << /Pad {5 + 2 * n} 0 R >> >> >>".encode())
            size = per_page // 1024**2 * 1024**2
            obj(f"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Length {size} >>".encode(),
                size)
        xref = out.tell()
        out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        out.write(b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets))
        out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\n"
                  f"startxref\n{xref}\n%%EOF\n".encode())
    return path


def memory_in_own_process(work: Path, megabytes: int) -> dict:
    import subprocess
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, __file__, "--memory-only", "--workdir", str(work),
                           "--big-pdf-mb", str(megabytes)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_runs(run, rounds: int) -> dict:
    runs = [run() for _ in range(rounds)]
    return {key: statistics.median(result[key] for result in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--pdf-pages", type=int, default=300)
    parser.add_argument("--viewer-pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--big-pdf-mb", type=int, default=1024)
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="khoso-reader-bench-"))
    try:
        if args.memory_only:
            print(json.dumps(memory_check(work, args.big_pdf_mb)))
            return 0
        return run(work, args)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args) -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.server import CHROMIUM, CHROMIUM_ARGS, serving

    app = build_portal(work)
    handles = make_items(app, work, args.pdf_pages, args.viewer_pages)
    results: dict = {"pdf_pages": args.pdf_pages, "viewer_pages": args.viewer_pages,
                     "pdf_file_bytes": handles["pdf_bytes"], "rounds": args.rounds,
                     "libraries": libraries()}
    with serving(app, buffer=False) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        results.update(sizes(base, handles))
        for network, throttle in (("loopback", None), ("regional", REGIONAL)):
            results[f"pdf_{network}"] = median_runs(
                lambda t=throttle: open_pdf(browser, base, handles["pdf"], t, False), args.rounds)
            results[f"pdf_stream_{network}"] = median_runs(
                lambda t=throttle: open_pdf(browser, base, handles["pdf"], t, True), 1)
            results[f"viewer_{network}"] = median_runs(
                lambda t=throttle: open_viewer(browser, base, handles["viewer"], t), args.rounds)
            results[f"viewer_10_pages_{network}"] = median_runs(
                lambda t=throttle: open_viewer(browser, base, handles["small"], t), args.rounds)
            print(network, json.dumps({key: value for key, value in results.items()
                                       if network in key}, indent=1), flush=True)
        browser.close()
    results["memory"] = memory_in_own_process(work / "memory", args.big_pdf_mb)
    results["pdf_share_of_file_cold"] = round(
        results["pdf_loopback"]["pdf_bytes_cold"] / handles["pdf_bytes"], 4)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
