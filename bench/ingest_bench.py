"""Ingest benchmark: throughput of the whole pipeline against bare Tesseract and OCRmyPDF, and the
peak memory of a worker on a 600-dpi A3 colour page.

Usage: python bench/ingest_bench.py [--pages 40] [--jobs N] [--rounds 3]
                                    [--only throughput,memory] [--out bench/results/ingest.json]

Pages: 300-dpi Vietnamese pages with known text (as in bench/ocr_bench.py), on light paper.
Throughput, in rounds (median reported), each round's runs back to back so that the load of this
shared machine falls on all alike:
1. ``tesseract`` CLI, text only, ``-l vie``, N processes at a time (OMP_THREAD_LIMIT=1): the floor
   of any OCR pipeline.
2. ``khoso ingest`` of the pages as one item, ``--processes N``, in a fresh instance: planning,
   normalize, derivatives, OCR with text, hOCR and text layer, storing with checksums, the item's
   searchable PDF and suggested metadata, until the batch is done (the command's whole wall time,
   Python's start and the app's included).
2b. The same batch as the portal hands it over: ``khoso worker --processes N`` running and ready,
   the batch queued, timed from its creation (planning included) to its end.
3. ``ocrmypdf -l vie --jobs N`` on the same pages as one image PDF (when ocrmypdf is installed:
   Debian's package, outside the project's dependencies).
Memory: one worker process runs ``pipeline.process_page`` on a 600-dpi A3 colour page; the peak
RSS of the worker and of the largest of its guarded children (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from ocr_bench import DPI, FONT, page_texts, render  # bench/ is this script's folder
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parent.parent
KHOSO = ("import sys; from viewer.cli import main; from ingest.cli import commands; "
         "[main.add_command(c) for c in commands if c.name not in main.commands]; main()")
SINGLE = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def make_pages(count: int, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    texts = page_texts(count)
    paths = []
    for number in range(count):
        page = render(texts[number % len(texts)]).point(lambda value: 28 + value * 208 // 255)
        paths.append(folder / f"trang-{number + 1:03d}.png")
        page.save(paths[-1], dpi=(DPI, DPI))
    return paths


def bench_tesseract(pages: list[Path], jobs: int, work: Path) -> float:
    def one(page: Path) -> None:
        subprocess.run(["tesseract", str(page), str(work / page.stem), "-l", "vie", "--dpi",
                        str(DPI), "txt"], env=SINGLE, check=True, capture_output=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, pages))
    return time.perf_counter() - started


def bench_khoso(pages: list[Path], jobs: int, work: Path) -> dict:
    env = {**SINGLE, "KHOSO_INSTANCE_PATH": str(work / "instance"), "PYTHONWARNINGS": "ignore"}
    khoso = [sys.executable, "-c", KHOSO]
    subprocess.run([*khoso, "setup", "--no-demo"], env=env, check=True, capture_output=True)
    subprocess.run([*khoso, "collection", "create", "bench", "--title", "Bench"], env=env,
                   check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run([*khoso, "ingest", str(pages[0].parent), "--collection", "bench",
                           "--json", "--processes", str(jobs)], env=env, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    summary = json.loads(done.stdout)
    assert summary["status"] == "done", done.stderr[-2000:]
    return {"seconds": seconds, "pages": summary["totals"]["pages"]}


def bench_service(pages: list[Path], jobs: int, work: Path) -> dict:
    """The batch as the portal's upload hands it to running workers: ``khoso worker`` started
    and ready (Tesseract loaded) first, then the batch queued; from the batch's creation
    (planning included) to its end, by the batch's own timestamps."""
    env = {**SINGLE, "KHOSO_INSTANCE_PATH": str(work / "instance"), "PYTHONWARNINGS": "ignore"}
    khoso = [sys.executable, "-c", KHOSO]
    subprocess.run([*khoso, "setup", "--no-demo"], env=env, check=True, capture_output=True)
    subprocess.run([*khoso, "collection", "create", "bench", "--title", "Bench"], env=env,
                   check=True, capture_output=True)
    log = work / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([*khoso, "worker", "--processes", str(jobs)], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count(" ready: ") < jobs:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError("workers did not start: " + log.read_text()[-2000:])
            time.sleep(0.1)
        done = subprocess.run([*khoso, "ingest", str(pages[0].parent), "--collection", "bench",
                               "--json", "--no-wait"], env=env, capture_output=True, text=True,
                              check=False)
        batch = json.loads(done.stdout)["batch"]
        database = sqlite3.connect(work / "instance" / "khoso.sqlite3")
        while True:
            row = database.execute("SELECT created_at, finished_at FROM ingest_batches "
                                   "WHERE id = ?", (batch,)).fetchone()
            if row[1]:
                break
            time.sleep(0.2)
        database.close()
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(60)
    seconds = (datetime.fromisoformat(row[1]) - datetime.fromisoformat(row[0])).total_seconds()
    return {"seconds": seconds, "pages": len(pages)}


def bench_ocrmypdf(pages: list[Path], jobs: int, work: Path) -> float | None:
    if shutil.which("ocrmypdf") is None:
        return None
    source = work / "pages.pdf"
    writer = PdfWriter()
    for page in pages:
        with Image.open(page) as image:
            single = work / f"{page.stem}.pdf"
            image.save(single, "PDF", resolution=DPI)
        writer.append(str(single))
    writer.write(source)
    started = time.perf_counter()
    subprocess.run(["ocrmypdf", "-l", "vie", "--jobs", str(jobs), str(source),
                    str(work / "ocrmypdf.pdf")], env=SINGLE, check=True, capture_output=True)
    return time.perf_counter() - started


def per_minute(pages: int, seconds: float | None) -> float | None:
    return None if not seconds else round(60 * pages / seconds, 2)


def bench_throughput(count: int, jobs: int, work: Path, rounds: int) -> dict:
    """``rounds`` rounds of bare tesseract, ``khoso ingest`` and the running service one after
    the other (the shared machine's load changes by the minute: each ratio is taken within
    its round, and the median round is reported), then OCRmyPDF once."""
    pages = make_pages(count, work / "pages")
    runs = []
    for number in range(rounds):
        folder = work / f"round-{number}"
        for name in ("tesseract", "khoso", "service"):
            (folder / name).mkdir(parents=True)
        tesseract = bench_tesseract(pages, jobs, folder / "tesseract")
        khoso = bench_khoso(pages, jobs, folder / "khoso")
        service = bench_service(pages, jobs, folder / "service")
        rates = {"tesseract_cli_txt": per_minute(count, tesseract),
                 "khoso_ingest": per_minute(khoso["pages"], khoso["seconds"]),
                 "khoso_service": per_minute(service["pages"], service["seconds"])}
        runs.append({"pages_per_minute": rates, "ratios_to_tesseract_cli": {
            name: round(rates[name] / rates["tesseract_cli_txt"], 3)
            for name in ("khoso_ingest", "khoso_service")}})
        print(json.dumps(runs[-1]), flush=True)
    (work / "ocrmypdf").mkdir()
    ocrmypdf = per_minute(count, bench_ocrmypdf(pages, jobs, work / "ocrmypdf"))
    median = {name: statistics.median(run["pages_per_minute"][name] for run in runs)
              for name in runs[0]["pages_per_minute"]}
    ratios = {name: statistics.median(run["ratios_to_tesseract_cli"][name] for run in runs)
              for name in ("khoso_ingest", "khoso_service")}
    return {"pages": count, "jobs": jobs, "rounds": runs,
            "median_pages_per_minute": {**median, "ocrmypdf": ocrmypdf},
            "ratio_to_tesseract_cli": ratios["khoso_ingest"],
            "service_ratio_to_tesseract_cli": ratios["khoso_service"],
            "ratio_to_ocrmypdf": round(median["khoso_ingest"] / ocrmypdf, 3) if ocrmypdf else None,
            "ocrmypdf": _ocrmypdf_version()}


def _ocrmypdf_version() -> str | None:
    if shutil.which("ocrmypdf") is None:
        return None
    found = subprocess.run(["ocrmypdf", "--version"], capture_output=True, text=True,
                           check=False)
    return found.stdout.strip() or None


MEMORY_PROBE = """
import json, resource, sys, time
from pathlib import Path
from ingest import pipeline
from ingest.context import Options, PageContext
from ingest.ocr import worker_engine
source, work = Path(sys.argv[1]), Path(sys.argv[2])
ctx = PageContext(work_dir=work, source=source, kind="png", options=Options())
started = time.perf_counter()
outcome = pipeline.process_page(ctx, worker_engine())
print(json.dumps({"seconds": round(time.perf_counter() - started, 1),
    "worker_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "largest_child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    "words_chars": len(outcome.text), "size": [outcome.width, outcome.height]}))
"""


def a3_colour_page(path: Path) -> Path:
    """An A3 page at 600 dpi: text on tinted paper with a colour picture (kept RGB)."""
    width, height = round(11.69 * 600), round(16.54 * 600)
    page = Image.new("RGB", (width, height), (243, 236, 222))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, round(11 * 600 / 72))
    text = page_texts(1)[0].splitlines()
    for number, line in enumerate(text * 2):
        draw.text((600, 600 + number * 140), line, font=font, fill=(30, 30, 30))
    picture = Image.linear_gradient("L").resize((width - 1200, 2400))
    page.paste(Image.merge("RGB", (picture, picture.rotate(90), picture.transpose(
        Image.Transpose.FLIP_TOP_BOTTOM))), (600, height - 3300))
    page.save(path, dpi=(600, 600), compress_level=1)
    return path


def bench_memory(work: Path) -> dict:
    source = a3_colour_page(work / "a3.png")
    (work / "probe").mkdir()
    found = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(source), str(work / "probe")],
                           env={**SINGLE, "PYTHONPATH": str(ROOT)}, capture_output=True,
                           text=True, check=True)
    return {"page": "A3 at 600 dpi, RGB", **json.loads(found.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--only", default="throughput,memory")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the throughput comparison (the median is reported)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/ingest.json")
    args = parser.parse_args()
    results: dict = {"machine": {"python": platform.python_version(), "cores": os.cpu_count(),
                                 "load_before": list(os.getloadavg())}}
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as work:
        if "throughput" in args.only:
            results["throughput"] = bench_throughput(args.pages, args.jobs, Path(work) / "t",
                                                     args.rounds)
            print(json.dumps(results["throughput"], indent=1), flush=True)
        if "memory" in args.only:
            (Path(work) / "m").mkdir()
            results["memory"] = bench_memory(Path(work) / "m")
            print(json.dumps(results["memory"], indent=1), flush=True)
    results["machine"]["load_after"] = list(os.getloadavg())
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
