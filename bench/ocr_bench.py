"""OCR benchmark: engines and languages, damaged scans with and without our normalize, guard cost.

Usage: python bench/ocr_bench.py [--pages 4] [--damage-pages 2] [--only engines,damage,guard,pdf]
                                 [--out bench/results/ocr.json]

Pages: the longest articles of /work/shared/data/vi-text/viwiki/ (sorted by name, every fourth
one), wrapped into 6.3-inch lines of 11-point DejaVu Sans, 26 lines a page, rendered at 300 dpi
(about 2,000 characters). The wrapped text is the ground truth; CER is the edit distance over
the reference length after collapsing whitespace.

1. engines: tesserocr (in process, model loaded once) and pytesseract (a process per page),
   each with ``vie`` and ``vie+eng``, interleaved page by page so that load from other work on
   this shared machine falls on all four alike. Seconds per page and mean CER.
2. damage: each page undamaged, on light paper, and damaged seven ways (skew 3°, blur, 200 dpi,
   uneven lighting, show-through, JPEG artefacts, a harsh G4 bilevel) and OCRed raw (Tesseract
   alone), after our normalize (orientation, colour, deskew) and after normalize +
   ``images.prepare`` as the pipeline runs it (it skips pages that need no clean-up:
   ``pages_cleaned``).
3. guard: what ``limits.run_limited`` adds per call and per normalized page.
4. pdf: the searchable page built our way (image page: JPEG or Flate, whichever is smaller, or
   G4 + Tesseract's text-only layer merged with pypdf) against Tesseract's own image+text PDF,
   for a clean rendered page, the same with paper grain, and a bilevel page: seconds and bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps
from pypdf import PdfReader

from ingest import images, limits, pdf
from ingest.context import Options, PageContext
from ingest.errors import MissingDependency
from ingest.ocr import CliEngine, OcrEngine, TesserocrEngine
from ingest.quality import cer

ROOT = Path(__file__).resolve().parent.parent
VIWIKI = ROOT.parent / "shared" / "data" / "vi-text" / "viwiki"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DPI, POINTS, LINES, WIDTH_IN = 300, 11, 26, 6.3






def page_texts(count: int) -> list[str]:
    """Ground-truth pages: wrapped lines from long articles, headings and blank lines dropped."""
    font = ImageFont.truetype(FONT, round(POINTS * DPI / 72))
    articles = sorted(VIWIKI.glob("*.txt"), key=lambda path: path.name)
    long_ones = [path for path in articles if path.stat().st_size > 6000][::4]
    return [_wrap(path.read_text(encoding="utf-8"), font) for path in long_ones[:count]]


def _wrap(text: str, font: ImageFont.FreeTypeFont) -> str:
    width = WIDTH_IN * DPI
    lines: list[str] = []
    for paragraph in unicodedata.normalize("NFC", text).splitlines():
        if not paragraph.strip() or paragraph.startswith("=="):
            continue
        line = ""
        for word in paragraph.split():
            if line and font.getlength(f"{line} {word}") > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        if len(lines) >= LINES:
            break
    return "\n".join(lines[:LINES])


def render(text: str) -> Image.Image:
    font = ImageFont.truetype(FONT, round(POINTS * DPI / 72))
    margin, pitch = DPI, round(POINTS * DPI / 72 * 1.45)
    page = Image.new("L", (round(WIDTH_IN * DPI) + 2 * margin,
                           pitch * len(text.splitlines()) + 2 * margin), 255)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(text.splitlines()):
        draw.text((margin, margin + number * pitch), line, font=font, fill=0)
    return page


def _engines() -> dict[str, OcrEngine]:
    built: dict[str, OcrEngine] = {"pytesseract": CliEngine()}
    try:
        built["tesserocr"] = TesserocrEngine()
    except MissingDependency as error:
        print(f"tesserocr skipped: {error}", file=sys.stderr)
    return built


def bench_engines(texts: list[str], work: Path) -> dict:
    engines = _engines()
    configs = [(name, lang) for name in engines for lang in ("vie", "vie+eng")]
    runs: dict[str, dict[str, list[float]]] = {
        f"{name} {lang}": {"s": [], "cer": []} for name, lang in configs}
    load = _warm_up(engines, texts[0], work)
    for number, text in enumerate(texts):
        image = work / f"clean{number}.png"
        render(text).save(image, dpi=(DPI, DPI))
        for name, lang in configs:
            started = time.perf_counter()
            result = engines[name].recognize(image, work / f"e{number}{name}{lang}",
                                             languages=lang, dpi=DPI, timeout=300)
            runs[f"{name} {lang}"]["s"].append(time.perf_counter() - started)
            runs[f"{name} {lang}"]["cer"].append(cer(text, result.text.read_text("utf-8")))
    summary = {key: _summary(values) for key, values in runs.items()}
    summary["tesserocr model load s"] = load
    return summary


def _warm_up(engines: dict[str, OcrEngine], text: str, work: Path) -> float | None:
    """Load each tesserocr model once outside the timings; return how long ``vie`` took."""
    image = work / "warm.png"
    render("\n".join(text.splitlines()[:2])).save(image, dpi=(DPI, DPI))
    loaded = None
    for lang in ("vie", "vie+eng"):
        engine = engines.get("tesserocr")
        if engine:
            started = time.perf_counter()
            engine.recognize(image, work / f"warm{lang}", languages=lang, dpi=DPI, timeout=300)
            loaded = loaded or round(time.perf_counter() - started, 3)
    return loaded


def _summary(values: dict[str, list[float]]) -> dict[str, float]:
    return {"s_per_page": round(statistics.mean(values["s"]), 3),
            "cer_percent": round(100 * statistics.mean(values["cer"]), 3),
            "pages": len(values["s"])}


def _skew(page: Image.Image) -> Image.Image:
    return page.rotate(3, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def _blur(page: Image.Image) -> Image.Image:
    return page.filter(ImageFilter.GaussianBlur(1.6))


def _uneven(page: Image.Image) -> Image.Image:
    # Light falling off across the page, as under a book-scanner lamp: 100% to 45% brightness.
    ramp = Image.linear_gradient("L").rotate(90).resize(page.size).point(
        lambda value: 255 - round(value * 0.55))
    return Image.composite(page, Image.new("L", page.size, 0), ramp).point(
        lambda value: min(255, value))


def _show_through(page: Image.Image, other: Image.Image) -> Image.Image:
    mirrored = ImageOps.mirror(other.resize(page.size)).point(lambda v: 255 - (255 - v) * 0.3)
    paper = Image.new("L", page.size, 232)
    return Image.composite(page, Image.composite(mirrored, paper, mirrored.point(
        lambda v: 255 if v < 250 else 0)), page.point(lambda v: 255 if v < 200 else 0))


def _jpeg(page: Image.Image, work: Path) -> Image.Image:
    path = work / "artefacts.jpg"
    page.save(path, quality=12)
    return Image.open(path).copy()


def _light_paper(page: Image.Image) -> Image.Image:
    # Gray ink on tinted paper, evenly lit: the pages of bench/ingest_bench.py.
    return page.point(lambda value: 28 + value * 208 // 255)


def _harsh_g4(page: Image.Image) -> Image.Image:
    return page.point(lambda value: 255 if value > 90 else 0).convert("1")


def damages(work: Path, other: Image.Image) -> dict[str, tuple[Callable, int]]:
    """Name → (damage, dpi of the damaged image)."""
    return {
        "none": (lambda page: page, DPI),
        "light paper": (_light_paper, DPI),
        "skew 3°": (_skew, DPI),
        "blur": (_blur, DPI),
        "200 dpi": (lambda page: page.resize((page.width * 2 // 3, page.height * 2 // 3),
                                             Image.Resampling.LANCZOS), 200),
        "uneven lighting": (_uneven, DPI),
        "show-through": (lambda page: _show_through(page, other), DPI),
        "jpeg q12": (lambda page: _jpeg(page, work), DPI),
        "harsh g4": (_harsh_g4, DPI),
    }


def bench_damage(texts: list[str], work: Path) -> dict:
    engine = TesserocrEngine() if "tesserocr" in _engines() else CliEngine()
    other = render(texts[-1])
    results: dict[str, dict[str, list[float]]] = {}
    for number, text in enumerate(texts):
        clean = render(text)
        for name, (damage, dpi) in damages(work, other).items():
            raw = work / f"d{number}-{name.replace(' ', '_')}.{'tif' if 'g4' in name else 'png'}"
            damaged = damage(clean)
            damaged.save(raw, dpi=(dpi, dpi), **({"compression": "group4"} if "g4" in name else {}))
            entry = results.setdefault(name, {"raw": [], "normalized": [], "cleaned": [],
                                              "skew": [], "clean_up_ran": 0})
            entry["raw"].append(_ocr_cer(engine, raw, dpi, text, work / f"r{number}"))
            ctx = PageContext(work_dir=raw.with_suffix(""), source=raw, options=Options())
            ctx.work_dir.mkdir()
            prepared = images.prepare(ctx, for_ocr=True)  # the pipeline's own image stage
            normalized = prepared.normalized
            entry["skew"].append(normalized.skew)
            entry["normalized"].append(_ocr_cer(engine, normalized.path, dpi, text,
                                                work / f"n{number}"))
            entry["clean_up_ran"] += prepared.ocr_image is not None  # None: needs no clean-up
            entry["cleaned"].append(_ocr_cer(engine, prepared.ocr_image or normalized.path, dpi,
                                             text, work / f"c{number}"))
    return {name: {"raw_cer_percent": _percent(v["raw"]),
                   "normalized_cer_percent": _percent(v["normalized"]),
                   "normalized_cleaned_cer_percent": _percent(v["cleaned"]),
                   "pages_cleaned": v["clean_up_ran"],
                   "skew_found": v["skew"]} for name, v in results.items()}


def _percent(values: list[float]) -> float:
    return round(100 * statistics.mean(values), 2)


def _ocr_cer(engine: OcrEngine, image: Path, dpi: int, text: str, base: Path) -> float:
    result = engine.recognize(image, base, languages="vie", dpi=dpi, timeout=300)
    return cer(text, result.text.read_text("utf-8"))


def _noop() -> int:
    return 0


def bench_guard(texts: list[str], work: Path) -> dict:
    """The guard's cost: a trivial guarded call, and normalize guarded against unguarded.

    Guarded and direct runs alternate and the medians are reported, so that load from other
    work on the machine falls on both alike.
    """
    guard = limits.Limits()
    Image.init()
    trivial = _timings(lambda: limits.run_limited(_noop, limits=guard), 21)
    source = work / "guard.png"
    render(texts[0]).save(source, dpi=(DPI, DPI))
    options = Options()
    ctx = PageContext(work_dir=work, source=source, options=options)
    guarded, direct = [], []
    for _ in range(9):
        guarded += _timings(lambda: images.normalize(ctx), 1)
        direct += _timings(lambda: images._normalize(source, 0, work / "direct.png", options), 1)
    return {"trivial_call_ms_median": round(1000 * statistics.median(trivial), 2),
            "trivial_call_ms_min": round(1000 * min(trivial), 2),
            "normalize_page_guarded_s_median": round(statistics.median(guarded), 3),
            "normalize_page_direct_s_median": round(statistics.median(direct), 3),
            "overhead_per_page_ms_median": round(
                1000 * (statistics.median(guarded) - statistics.median(direct)), 1),
            "overhead_per_page_ms_min": round(1000 * (min(guarded) - min(direct)), 1)}


def _timings(call: Callable[[], object], times: int) -> list[float]:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return spent


def bench_pdf(texts: list[str], work: Path) -> dict:
    """Our searchable page (image page + text layer) against Tesseract's own image+text PDF."""
    engine = CliEngine()
    clean = render(texts[0])
    grain = ImageChops.darker(clean.filter(ImageFilter.GaussianBlur(0.7)),
                              Image.effect_noise(clean.size, 8).point(lambda v: v + 102))
    out: dict[str, dict[str, float]] = {}
    for label, image in (("clean gray", clean), ("gray with paper grain", grain),
                         ("bilevel", clean.point(lambda v: 255 if v > 128 else 0).convert("1"))):
        source = work / f"pdf-{label.replace(' ', '_')}.png"
        image.save(source, dpi=(DPI, DPI))
        ctx = PageContext(work_dir=work / source.stem, source=source, options=Options())
        ctx.work_dir.mkdir(exist_ok=True)
        ctx = ctx.with_(normalized=images.normalize(ctx))
        ctx = ctx.with_(ocr=engine.recognize(ctx.normalized.path, ctx.path("ocr", ""),
                                             languages="vie", dpi=DPI, timeout=300))
        started = time.perf_counter()
        ours = pdf.page_pdf(ctx)
        seconds = time.perf_counter() - started
        whole = _tesseract_full_pdf(ctx.normalized.path, work / f"full-{source.stem}")
        out[label] = {"ours_s": round(seconds, 3), "ours_bytes": ours.stat().st_size,
                      "ours_image_filter": _filter(ours),
                      "tesseract_pdf_bytes": whole.stat().st_size,
                      "tesseract_image_filter": _filter(whole),
                      "png_master_bytes": ctx.normalized.path.stat().st_size}
    return out


def _filter(path: Path) -> str:
    page = PdfReader(path).pages[0]
    xobjects = page["/Resources"]["/XObject"]
    return " ".join(str(xobjects[name].get_object()["/Filter"]) for name in xobjects)


def _tesseract_full_pdf(image: Path, base: Path) -> Path:
    limits.run_tool(["tesseract", str(image), str(base), "-l", "vie", "--dpi", str(DPI), "pdf"],
                    timeout=300)
    return base.with_name(base.name + ".pdf")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--damage-pages", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ocr.json")
    parser.add_argument("--only", default="engines,damage,guard,pdf",
                        help="comma-separated sections; others are kept from an earlier --out")
    args = parser.parse_args()
    texts = page_texts(max(args.pages, args.damage_pages))
    sections = {"engines": lambda: bench_engines(texts[:args.pages], work),
                "damage": lambda: bench_damage(texts[:args.damage_pages], work),
                "guard": lambda: bench_guard(texts, work),
                "pdf": lambda: bench_pdf(texts, work)}
    report = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    report["machine"] = _machine(texts)
    with tempfile.TemporaryDirectory(prefix="khoso-ocr-bench-") as temp:
        work = Path(temp)
        for name in args.only.split(","):
            started = time.monotonic()
            report[name] = {**sections[name](), "load_average": _load()}
            print(f"{name} ({time.monotonic() - started:.0f} s):",
                  json.dumps(report[name], ensure_ascii=False, indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _machine(texts: list[str]) -> dict:
    try:
        import tesserocr
        bundled = tesserocr.tesseract_version().split()[1]
    except ImportError:
        bundled = None
    system = limits.run_tool(["tesseract", "--version"], timeout=30).stdout.decode().split()[1]
    return {"python": platform.python_version(), "cores": os.cpu_count(),
            "tesseract_cli": system, "tesserocr_tesseract": bundled,
            "page_chars": round(statistics.mean(len(text) for text in texts)),
            "load_before": _load()}


if __name__ == "__main__":
    sys.exit(main())
