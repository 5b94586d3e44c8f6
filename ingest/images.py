"""Page images: inspect an image file, normalize a page, clean it for OCR, make derivatives.

Normalizing makes every page upright (EXIF/TIFF orientation), 8-bit bilevel, gray or RGB (from
16-bit, CMYK, Lab, palette, alpha), deskewed, with a trustworthy resolution, written losslessly
as PNG. Every decode runs in ``limits.run_limited``; decoder exceptions become typed errors here.
``prepare`` runs the image stages of one page in one guarded child, on one decode of the page.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import (
    Image,
    ImageChops,
    ImageCms,
    ImageFilter,
    ImageMath,
    ImageOps,
    ImageStat,
    UnidentifiedImageError,
)

from ingest import pdf
from ingest.context import Options, PageContext
from ingest.errors import CorruptFile, IngestError, TooLarge, TruncatedFile
from ingest.identify import Inspection
from ingest.limits import Limits, run_limited

MIN_DPI, MAX_DPI = 100.0, 2400.0
MAX_SKEW = 5.0
SKEW_EVIDENCE = 1.25  # photographs reach 1.1; text skewed 0.5° reaches 1.35
MIN_SKEW_SIDE = 150
WHITE = {"1": 1, "L": 255, "RGB": (255, 255, 255)}
# What Pillow's plugins raise on damaged data; anything else is a bug and surfaces as such.
DECODER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, ZeroDivisionError,
                  IndexError, KeyError, TypeError)
# Tags worth suggesting Dublin Core from (TIFF and EXIF share the numbering).
META_TAGS = {269: "document_name", 270: "description", 271: "make", 272: "model",
             305: "software", 306: "datetime", 315: "artist", 33432: "copyright"}
EXIF_IFD, DATETIME_ORIGINAL, ORIENTATION = 0x8769, 36867, 0x0112
# A page is clean enough for Tesseract as it is when its paper is this even (gray levels between
# the darkest and lightest paper, 2nd to 98th percentile) and this few of its pixels lie between
# the ink threshold and that many levels below the paper (show-through, stains, blur): clean
# pages have 1-2% there (the edges of letters), show-through and blur 4-6%. See ocr_bench.py.
EVEN_PAPER_LEVELS = 16
MAX_MIDTONE_SHARE = 0.03
FLATTEN_BAND = 512  # rows divided at a time: the division works in 32-bit pixels


@dataclass(frozen=True)
class PreparedPage:
    """What the image stages made of one page (``prepare``): the normalized page, its
    derivatives, the image Tesseract should read (None: the normalized page as it is) and, for
    image files, the page's image as a one-page PDF waiting for its text layer."""

    normalized: NormalizedPage
    derivatives: dict[str, Path]
    ocr_image: Path | None
    page_image: Path | None


@dataclass(frozen=True)
class NormalizedPage:
    """A page as the later stages see it: a lossless PNG and what was done to get it."""

    path: Path
    width: int
    height: int
    mode: str
    dpi: float
    skew: float = 0.0
    notes: tuple[str, ...] = ()
    unchanged: bool = False  # the pixels are the source's as decoded (no turn, no conversion)


def inspect(path: Path, limits: Limits) -> Inspection:
    """Count the frames of an image file and read its header and metadata, under ``limits``."""
    Image.init()  # load the plugins once in the parent, not again in every child
    return run_limited(_inspect, path, limits.max_pixels, limits.max_pages, limits=limits)


def prepare(ctx: PageContext, *, for_ocr: bool) -> PreparedPage:
    """``normalize``, ``make_derivatives``, ``clean_for_ocr`` (if ``for_ocr``) and the page's
    image PDF in one guarded child that decodes the page once; the same files as the stages.

    One child per page instead of one per stage: the same limits hold for the whole page, the
    page is decoded once instead of four times, and no stage re-reads what the last one wrote.
    """
    source, frame = (ctx.image, 0) if ctx.image else (ctx.source, ctx.page_index)
    options = ctx.options
    if ctx.kind == "pdf":  # the text layer goes over the original page: keep its geometry
        options = dataclasses.replace(options, deskew=False)
    outs = {"norm": ctx.path("norm", ".png"), "web": ctx.path("web", ".jpg"),
            "thumb": ctx.path("thumb", ".jpg"), "ocrin": ctx.path("ocrin", ".png")}
    if ctx.kind != "pdf":  # a PDF page keeps its own page in the item's PDF
        outs["image"] = ctx.path("image", ".pdf")
    copy = ctx.kind == "png" and not ctx.image and not frame
    Image.init()
    return run_limited(_prepare, source, frame, outs, options, for_ocr, copy,
                       limits=options.limits)


def normalize(ctx: PageContext) -> NormalizedPage:
    """Decode ``ctx``'s page and write it upright, 8-bit, deskewed, as ``pNNNNN.norm.png``.

    The page is ``ctx.image`` (a rendered PDF page) if set, else frame ``page_index`` of the
    source image. PDF pages are not deskewed: their text layer is laid over the original page.
    """
    source, frame = (ctx.image, 0) if ctx.image else (ctx.source, ctx.page_index)
    out = ctx.path("norm", ".png")
    options = ctx.options
    if ctx.kind == "pdf":  # the text layer goes over the original page: keep its geometry
        options = dataclasses.replace(options, deskew=False)
    Image.init()
    return run_limited(_normalize, source, frame, out, options, limits=options.limits)


def clean_for_ocr(ctx: PageContext) -> Path:
    """A gray copy of the normalized page for Tesseract only, as ``pNNNNN.ocrin.png``.

    Uneven lighting is divided out (background estimated by a max filter on a 1/16 copy) and
    paper tone, stains and show-through above the midpoint between ink and paper become white.
    Geometry is unchanged, so OCR boxes fit the normalized page. Bilevel pages need none of it,
    nor do evenly lit pages with crisp ink (``needs_cleaning``): the normalized page is returned.
    """
    if ctx.normalized is None:
        raise ValueError("clean_for_ocr needs a normalized page")
    if ctx.normalized.mode == "1":
        return ctx.normalized.path
    out = ctx.path("ocrin", ".png")
    cleaned = run_limited(_clean_for_ocr, ctx.normalized.path, out, limits=ctx.options.limits)
    return out if cleaned else ctx.normalized.path


def make_derivatives(ctx: PageContext) -> dict[str, Path]:
    """Make the viewer's web-sized image and thumbnail (JPEG) from the normalized page."""
    if ctx.normalized is None:
        raise ValueError("make_derivatives needs a normalized page")
    sizes = {"web": ctx.options.web_size, "thumb": ctx.options.thumb_size}
    outs = {name: ctx.path(name, ".jpg") for name in sizes}
    run_limited(_derivatives, ctx.normalized.path, sizes, outs, ctx.options.jpeg_quality,
                limits=ctx.options.limits)
    return outs


@contextlib.contextmanager
def decoding(max_pixels: int) -> Iterator[None]:
    """Turn Pillow's exceptions and bomb warnings into our errors while a file is decoded."""
    Image.MAX_IMAGE_PIXELS = max_pixels  # only ever set inside a run_limited child
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except IngestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise TooLarge(f"The image has too many pixels (decompression bomb?): {error}") from error
    except EOFError as error:
        detail = str(error) or "unexpected end of file"
        raise TruncatedFile(f"The image ends too early: {detail}") from error
    except DECODER_ERRORS as error:
        raise _decoder_error(error) from error


def _decoder_error(error: Exception) -> IngestError:
    if isinstance(error, UnidentifiedImageError):  # its message holds our path: say it plainly
        return CorruptFile("The image's header is damaged: no decoder recognises it.")
    text = str(error) or type(error).__name__
    if "truncat" in text.lower():
        return TruncatedFile(f"The image ends too early: {text}")
    if "too large" in text.lower():
        return TooLarge(f"The image expands beyond the decoder's limits: {text}")
    return CorruptFile(f"The image is damaged and cannot be decoded: {text}")


def open_image(path: Path, max_pixels: int) -> Image.Image:
    """Open ``path`` (headers only) and refuse it if a page has more than ``max_pixels``."""
    image = Image.open(path)
    check_pixels(image, max_pixels)
    return image


def check_pixels(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width <= 0 or height <= 0:
        raise CorruptFile(f"The image has no pixels ({width}×{height}).")
    if width * height > max_pixels:
        raise TooLarge(f"The page is {width}×{height} pixels; the limit is {max_pixels:,}.")


def _inspect(path: Path, max_pixels: int, max_pages: int) -> Inspection:
    with decoding(max_pixels), open_image(path, max_pixels) as image:
        metadata = read_metadata(image)
        first = (image.size, image.mode, image_dpi(image))
        pages = _count_frames(image, max_pixels, max_pages)
    (width, height), mode, dpi = first
    return Inspection(pages=pages, width=width, height=height, dpi=dpi, mode=mode,
                      metadata=metadata)


def _count_frames(image: Image.Image, max_pixels: int, max_pages: int) -> int:
    frames = getattr(image, "n_frames", 1)
    if frames < 1:
        raise CorruptFile("The image file has no pages.")
    if frames > max_pages:
        raise TooLarge(f"The file has {frames} pages; the limit is {max_pages}.")
    for index in range(1, frames):
        image.seek(index)
        check_pixels(image, max_pixels)
    return frames


def read_metadata(image: Image.Image) -> dict[str, str]:
    """Embedded TIFF/EXIF tags as plain strings; unreadable EXIF yields what could be read."""
    found: dict[str, str] = {}
    if image.format == "PNG" and "exif" not in image.info:
        # An eXIf chunk after the pixels would cost decoding them all: inspection reads headers.
        return found
    try:
        exif = image.getexif()
        tags = dict(exif.items())
        tags[DATETIME_ORIGINAL] = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
    except DECODER_ERRORS:
        return found
    for tag, name in (*META_TAGS.items(), (DATETIME_ORIGINAL, "datetime_original")):
        value = tags.get(tag)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str) and value.strip("\x00 "):
            found[name] = value.strip("\x00 ")[:500]
    return found


def image_dpi(image: Image.Image) -> float | None:
    """The horizontal resolution if it is plausible for a scan, else None."""
    try:
        dpi = float(image.info.get("dpi", (0, 0))[0])
    except (TypeError, ValueError, IndexError):
        return None
    return dpi if MIN_DPI <= dpi <= MAX_DPI else None


def _normalize(source: Path, frame: int, out: Path, options: Options) -> NormalizedPage:
    page, normalized = _normal_page(source, frame, out, options)
    _save_master(page, normalized, None)
    return normalized


def _normal_page(source: Path, frame: int, out: Path, options: Options
                 ) -> tuple[Image.Image, NormalizedPage]:
    """The page decoded, upright, 8-bit and deskewed, and its record (not yet written)."""
    max_pixels = options.limits.max_pixels
    with decoding(max_pixels), open_image(source, max_pixels) as image:
        if frame:
            image.seek(frame)
            check_pixels(image, max_pixels)
        image.load()
        dpi = image_dpi(image)
        upright, notes = upright_image(image)
        page = to_8bit(upright)
        as_decoded = (image.mode == page.mode and not notes and not image.info.get("icc_profile")
                      and getattr(image, "n_frames", 1) == 1
                      and image.getexif().get(ORIENTATION, 1) == 1)
    skew = estimate_skew(page) if options.deskew else 0.0
    if skew:
        page = rotate(page, skew)
    if dpi is None:
        notes += (f"no usable resolution in the file; assumed {options.dpi} dpi",)
    resolution = dpi or float(options.dpi)
    unchanged = as_decoded and not skew and dpi is not None
    return page, NormalizedPage(path=out, width=page.width, height=page.height, mode=page.mode,
                                dpi=resolution, skew=skew, notes=notes, unchanged=unchanged)


def _save_master(page: Image.Image, normalized: NormalizedPage, source: Path | None) -> None:
    """Write the master PNG; a PNG source that normalizing left as it was is copied instead."""
    if source is not None and normalized.unchanged:
        shutil.copyfile(source, normalized.path)
        return
    resolution = normalized.dpi
    page.save(normalized.path, "PNG", dpi=(resolution, resolution), compress_level=1)


def _prepare(source: Path, frame: int, outs: dict[str, Path], options: Options, for_ocr: bool,
             copy: bool) -> PreparedPage:
    page, normalized = _normal_page(source, frame, outs["norm"], options)
    copy = copy and normalized.unchanged
    _save_master(page, normalized, source if copy else None)
    derivatives = {"web": outs["web"], "thumb": outs["thumb"]}
    _write_derivatives(page, {"web": options.web_size, "thumb": options.thumb_size},
                       derivatives, options.jpeg_quality)
    if "image" in outs:
        outs["image"].write_bytes(pdf.image_pdf(page, normalized.dpi, options.pdf_jpeg_quality,
                                                png=normalized.path if copy else None))
    ocr_image = None
    if for_ocr and page.mode != "1":
        gray = page.convert("L")
        del page  # an A3 colour page is 200 MB: let it go before the clean-up's copies
        if needs_cleaning(gray):
            cleaned(gray).save(outs["ocrin"], "PNG", dpi=(normalized.dpi, normalized.dpi),
                               compress_level=1)
            ocr_image = outs["ocrin"]
    return PreparedPage(normalized, derivatives, ocr_image, outs.get("image"))


def upright_image(image: Image.Image) -> tuple[Image.Image, tuple[str, ...]]:
    """Apply the EXIF/TIFF orientation; a broken EXIF block leaves the page as scanned."""
    try:
        return ImageOps.exif_transpose(image), ()
    except DECODER_ERRORS as error:
        return image, (f"orientation tag unreadable ({error}); page left as scanned",)


def to_8bit(image: Image.Image) -> Image.Image:
    """Bilevel stays bilevel; everything else becomes 8-bit gray or RGB on white."""
    mode = image.mode
    if mode in ("1", "L"):
        return image
    if mode.startswith("I") or mode == "F":
        return _deep_to_gray(image)
    if mode == "P":
        image = image.convert("RGBA")
    if "A" in image.getbands():
        image = _flatten_alpha(image)
    rgb = _to_srgb(image) if image.info.get("icc_profile") else None
    if rgb is None:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    return _gray_if_neutral(rgb)


def _to_srgb(image: Image.Image) -> Image.Image | None:
    """Colour-manage through the embedded ICC profile; None if the profile is unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
        return ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"),
                                         outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _deep_to_gray(image: Image.Image) -> Image.Image:
    # 12-bit scanners store their samples in 16-bit containers: scale by the depth really used.
    wide = image.convert("I") if image.mode != "F" else image
    low, high = wide.getextrema()
    bits = max(8, int(max(high, 1)).bit_length())
    return wide.point(lambda value: value * (255 / (2**bits - 1))).convert("L")


def _flatten_alpha(image: Image.Image) -> Image.Image:
    mode = "L" if image.mode in ("LA", "La") else "RGB"
    rgba = image.convert("LA" if mode == "L" else "RGBA")
    background = Image.new(mode, image.size, WHITE[mode])
    background.paste(rgba.convert(mode), mask=rgba.getchannel("A"))
    return background


def _gray_if_neutral(rgb: Image.Image) -> Image.Image:
    """Gray scans saved as RGB become L: a third of the pixels to OCR, store and encode."""
    if not _neutral(rgb.reduce(8)):  # colour shows on a small copy too: no full-size bands
        return rgb
    red, green, blue = rgb.split()
    if ImageChops.difference(red, green).getbbox() or ImageChops.difference(green, blue).getbbox():
        return rgb
    return red


def _neutral(rgb: Image.Image) -> bool:
    red, green, blue = rgb.split()
    return not (ImageChops.difference(red, green).getbbox()
                or ImageChops.difference(green, blue).getbbox())


def estimate_skew(page: Image.Image, max_angle: float = MAX_SKEW) -> float:
    """The rotation (degrees, counter-clockwise) that makes text lines horizontal, or 0.0.

    Projection profile: the row sums of the ink vary most when lines are level. Searched on a
    small copy, coarse then fine; pages with no clear lines (photographs) are left alone.
    """
    small = _ink_map_source(page, 1000)  # one pass over the full page for both maps
    coarse_ink, fine_ink = _ink_map(small, 500), _ink_map(small, 1000)
    if coarse_ink is None or fine_ink is None:
        return 0.0
    steps = int(max_angle)
    best = max(range(-steps, steps + 1), key=lambda angle: _profile_score(coarse_ink, angle))
    # Quarter degrees on the small map, then tenths on the large one: 5 turns of the large
    # map instead of 15, the same angles found (tests/ingest/test_images.py, ocr_bench.py).
    middle = [best + step / 4 for step in range(-3, 4) if abs(best + step / 4) <= max_angle]
    best = max(middle, key=lambda angle: _profile_score(coarse_ink, angle))
    fine = [round(best + step / 10, 1) for step in range(-2, 3)
            if abs(best + step / 10) <= max_angle]
    scores = {angle: _profile_score(fine_ink, angle) for angle in fine}
    angle = max(scores, key=scores.__getitem__)
    level = scores.get(0.0) or _profile_score(fine_ink, 0.0)
    if abs(angle) < 0.2 or scores[angle] < SKEW_EVIDENCE * level:
        return 0.0
    return round(angle, 2)


def _ink_map_source(page: Image.Image, size: int) -> Image.Image:
    gray = page if page.mode == "L" else page.convert("L")
    scale = size / max(gray.size)
    if scale < 1:
        gray = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))),
                           Image.Resampling.BOX)
    return gray


def _ink_map(page: Image.Image, size: int) -> Image.Image | None:
    gray = _ink_map_source(page, size)
    if min(gray.size) < MIN_SKEW_SIDE:
        return None
    threshold = ImageStat.Stat(gray).mean[0] * 0.75
    ink = gray.point(lambda value: 255 if value < threshold else 0)
    return ink if ink.getbbox() else None


def _profile_score(ink: Image.Image, angle: float) -> float:
    turned = ink.rotate(angle, resample=Image.Resampling.NEAREST) if angle else ink
    rows = turned.resize((1, turned.height), Image.Resampling.BOX)
    return ImageStat.Stat(rows).var[0]


def rotate(page: Image.Image, angle: float) -> Image.Image:
    """Rotate counter-clockwise by ``angle`` on a white ground; bilevel pages stay bilevel."""
    work = page.convert("L") if page.mode == "1" else page
    turned = work.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=WHITE[work.mode])
    if page.mode == "1":
        return turned.point(lambda value: 255 if value > 127 else 0).convert("1")
    return turned


def _clean_for_ocr(normalized: Path, out: Path) -> bool:
    with Image.open(normalized) as image:
        gray = image.convert("L")
        dpi = image.info.get("dpi", (300, 300))
    if not needs_cleaning(gray):
        return False
    cleaned(gray).save(out, "PNG", dpi=dpi, compress_level=1)
    return True


def cleaned(gray: Image.Image) -> Image.Image:
    """Uneven light divided out; paper tone and show-through above the ink's midpoint white."""
    flat = flatten_background(gray)
    white = (otsu_threshold(flat) + 255) // 2
    return flat.point(lambda value: 255 if value >= white else value * 255 // white)


def needs_cleaning(gray: Image.Image) -> bool:
    """False for an evenly lit page whose pixels are ink or paper (few between): Tesseract's
    own thresholding reads it as well as the cleaned copy, so the clean-up is skipped."""
    paper = _paper(gray)
    levels = paper.histogram()
    if _percentile(levels, 0.98) - _percentile(levels, 0.02) > EVEN_PAPER_LEVELS:
        return True
    histogram = gray.histogram()
    threshold = _otsu(histogram)
    paper_level = _percentile(levels, 0.02)
    midtones = sum(histogram[threshold + 1:max(threshold + 1, paper_level - EVEN_PAPER_LEVELS)])
    return midtones > MAX_MIDTONE_SHARE * gray.width * gray.height


def _paper(gray: Image.Image) -> Image.Image:
    """The paper's brightness on a 1/16 copy: the lightest pixel around each point."""
    small = gray.resize((max(1, gray.width // 16), max(1, gray.height // 16)),
                        Image.Resampling.BOX)
    return small.filter(ImageFilter.MaxFilter(5))


def _percentile(histogram: list[int], share: float) -> int:
    wanted, seen = share * sum(histogram), 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= wanted:
            return level
    return len(histogram) - 1


def flatten_background(gray: Image.Image) -> Image.Image:
    """Divide the page by its estimated paper brightness, so uneven light becomes even white."""
    paper = _paper(gray).point(lambda value: max(value, 1))
    paper = paper.resize(gray.size, Image.Resampling.BILINEAR)
    flat = Image.new("L", gray.size)
    for top in range(0, gray.height, FLATTEN_BAND):  # in bands: 32-bit copies of a band only
        box = (0, top, gray.width, min(gray.height, top + FLATTEN_BAND))
        band = ImageMath.lambda_eval(lambda ops: ops["page"] * 255 / ops["paper"],
                                     page=gray.crop(box), paper=paper.crop(box))
        flat.paste(band.convert("L"), box[:2])
    return flat


def otsu_threshold(gray: Image.Image) -> int:
    """The gray level that best separates ink from paper (Otsu's method on the histogram)."""
    return _otsu(gray.histogram())


def _otsu(histogram: list[int]) -> int:
    total, weighted = sum(histogram), sum(level * count for level, count in enumerate(histogram))
    below = below_sum = 0
    best, threshold = -1.0, 128
    for level, count in enumerate(histogram):
        below += count
        below_sum += level * count
        if below in (0, total):
            continue
        gap = below_sum / below - (weighted - below_sum) / (total - below)
        spread = below * (total - below) * gap * gap
        if spread > best:
            best, threshold = spread, level
    return threshold


def _derivatives(normalized: Path, sizes: dict[str, int], outs: dict[str, Path],
                 quality: int) -> None:
    with Image.open(normalized) as image:
        image.load()
        _write_derivatives(image, sizes, outs, quality)


def _write_derivatives(page: Image.Image, sizes: dict[str, int], outs: dict[str, Path],
                       quality: int) -> None:
    """Each size from the next larger one (largest first), never copying the whole page."""
    base = page
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        if base.mode == "1":
            base = base.convert("L")
        scale = min(1.0, size / max(base.size))
        box = (max(1, round(base.width * scale)), max(1, round(base.height * scale)))
        if box != base.size:
            # Halving by box filter first, then Lanczos: a third less time on a 300-dpi page,
            # 0.8 gray levels from a full Lanczos on average (bench/ingest_bench.py).
            base = base.resize(box, Image.Resampling.LANCZOS, reducing_gap=1.0)
        base.save(outs[name], "JPEG", quality=quality, optimize=True)
