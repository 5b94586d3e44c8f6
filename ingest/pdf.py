"""PDF in and out: inspect and read uploaded PDFs, render scanned pages, build the searchable PDF.

Reading uses pypdf inside ``limits.run_limited`` (pypdf raises AttributeError, TypeError or
AssertionError on some damaged files, so every pypdf call is fenced here). Scanned pages are
rendered with poppler's ``pdftoppm`` rather than by pulling out their embedded images: rendering
handles every image filter (JBIG2, CCITT, JPX), masks, strips, /Rotate and crop boxes in one way,
and the OCR coordinates then match the page exactly. The searchable PDF keeps each original
PDF page as it is (born-digital pages unchanged; scanned pages get Tesseract's invisible text
layer laid over them), and builds pages for image files from the normalized image (JPEG or
Flate, whichever is smaller, for gray and colour; CCITT G4 for bilevel) with the same text layer
merged on top.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image
from pypdf import PageObject, PasswordType, PdfReader, PdfWriter, Transformation
from pypdf.errors import DependencyError, LimitReachedError, PyPdfError
from pypdf.generic import DecodedStreamObject, NameObject

from ingest.context import PageContext
from ingest.errors import (
    CorruptFile,
    EncryptedPdf,
    IngestError,
    MissingDependency,
    TooLarge,
    TruncatedFile,
    WrongPassword,
)
from ingest.identify import Inspection
from ingest.limits import Limits, run_limited, run_tool

POINTS_PER_INCH = 72.0
MIN_OWN_LETTERS = 10  # fewer letters than this on a page and it is treated as scanned
# pypdf's own errors, and what it lets escape on damaged files (see the data README).
PDF_ERRORS = (PyPdfError, AttributeError, TypeError, AssertionError, KeyError, ValueError,
              IndexError, struct.error, zlib.error, OSError, UnicodeError, ZeroDivisionError)
_TRUNCATION_HINTS = ("eof marker", "ended unexpectedly", "truncat", "startxref")
INFO_KEYS = {"/Title": "title", "/Author": "creator", "/Subject": "subject",
             "/Keywords": "keywords", "/Creator": "creator_tool", "/Producer": "producer",
             "/CreationDate": "created", "/ModDate": "modified"}


def inspect(path: Path, limits: Limits, password: str | None = None) -> Inspection:
    """Open the PDF under ``limits``: page count, first page size, metadata; typed errors only."""
    return run_limited(_inspect, path, password, limits=limits)


def page_text(ctx: PageContext) -> str:
    """The text a born-digital page carries (pypdf); empty if the page is only an image."""
    return run_limited(_page_text, ctx.source, ctx.page_index, ctx.options.password,
                       limits=ctx.options.limits)


def needs_ocr(text: str) -> bool:
    """Whether a PDF page's own text is too thin to keep: no text, or a stamp or page number."""
    return sum(char.isalpha() for char in text) < MIN_OWN_LETTERS


def render_page(ctx: PageContext, dpi: int | None = None) -> Path:
    """Render one page with pdftoppm to ``pNNNNN.render.png`` at ``dpi`` (default: options)."""
    dpi = dpi or ctx.options.dpi
    prefix = ctx.path("render", "")
    argv = ["pdftoppm", "-r", str(dpi), "-f", str(ctx.number), "-l", str(ctx.number), "-png",
            "-singlefile"]
    if ctx.options.password:
        argv += ["-upw", ctx.options.password]  # visible in ps on this host; decrypting costs more
    limits = ctx.options.limits
    run_tool([*argv, str(ctx.source), str(prefix)], timeout=limits.seconds,
             memory_mb=limits.memory_mb, package="poppler-utils")
    out = prefix.with_name(prefix.name + ".png")
    if not out.exists():
        raise CorruptFile(f"pdftoppm rendered nothing for page {ctx.number}.")
    return out


def page_pdf(ctx: PageContext) -> Path:
    """This page as a one-page PDF for the item: original page or image, plus the OCR layer.

    An image page whose image PDF ``images.prepare`` already wrote gets the text layer laid
    over it here, in this process: both files are our own, not the upload.
    """
    out = ctx.path("page", ".pdf")
    text_layer = ctx.ocr.pdf if ctx.ocr else None
    if ctx.kind != "pdf" and ctx.page_image is not None:
        if text_layer is None:
            os.replace(ctx.page_image, out)
        else:
            with reading(ctx.page_image):
                _add_text_layer(ctx.page_image, text_layer, out)
    elif ctx.kind == "pdf":
        run_limited(_pdf_page, ctx.source, ctx.page_index, ctx.options.password, text_layer, out,
                    limits=ctx.options.limits)
    elif ctx.normalized is not None:
        run_limited(_image_page, ctx.normalized.path, ctx.normalized.dpi,
                    ctx.options.pdf_jpeg_quality, text_layer, out, limits=ctx.options.limits)
    else:
        raise ValueError("page_pdf needs a PDF source or a normalized page")
    return out


def assemble(pages: Sequence[Path], out: Path, metadata: dict[str, str] | None = None,
             limits: Limits | None = None) -> Path:
    """Join one-page PDFs into the item's PDF at ``out``: temp file beside it, then rename."""
    limits = limits or Limits()
    return run_limited(_assemble, list(pages), out, metadata or {}, limits=limits)


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn what pypdf raises on a damaged file into our errors."""
    try:
        yield
    except IngestError:
        raise
    except DependencyError as error:
        raise MissingDependency(f"Reading this PDF needs a missing package: {error} "
                                "(AES encryption needs 'cryptography').") from error
    except LimitReachedError as error:
        raise TooLarge(f"The PDF expands beyond the reader's limits: {error}") from error
    except RecursionError as error:
        raise CorruptFile("The PDF's structure loops or nests too deeply.") from error
    except PDF_ERRORS as error:
        raise _pdf_error(path, error) from error


def _pdf_error(path: Path, error: Exception) -> IngestError:
    text = str(error) or type(error).__name__
    if any(hint in text.lower() for hint in _TRUNCATION_HINTS) and _lacks_eof(path):
        return TruncatedFile(f"The PDF ends too early (no end-of-file marker): {text}")
    return CorruptFile(f"The PDF is damaged and cannot be read: {text}"[:400])


def _lacks_eof(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 1024))
        return b"%%EOF" not in handle.read()


def open_reader(path: Path, password: str | None) -> PdfReader:
    """A pypdf reader, decrypted with ``password`` (or the empty one) if the PDF is encrypted."""
    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        _decrypt(reader, password)
    return reader


def _decrypt(reader: PdfReader, password: str | None) -> None:
    # The empty user password first: files that only restrict printing open without asking.
    for attempt in dict.fromkeys(("", password or "")):
        try:
            if reader.decrypt(attempt) != PasswordType.NOT_DECRYPTED:
                return
        except NotImplementedError as error:
            raise EncryptedPdf(f"The PDF uses an encryption this server cannot open ({error}). "
                               "Upload a copy without the password.") from error
    raise WrongPassword() if password else EncryptedPdf()


def _inspect(path: Path, password: str | None) -> Inspection:
    with reading(path):
        reader = open_reader(path, password)
        count = len(reader.pages)
        if count < 1:
            raise CorruptFile("The PDF has no pages.")
        width, height = _first_page_size(reader)
        metadata = {**_xmp(reader), **_info(reader)}
        return Inspection(pages=count, width=width, height=height, dpi=POINTS_PER_INCH,
                          encrypted=reader.is_encrypted, metadata=metadata)


def _first_page_size(reader: PdfReader) -> tuple[int, int]:
    """The first page's size in points; (0, 0) if that page is damaged (the others may not be)."""
    try:
        box = reader.pages[0].mediabox
        return round(float(box.width)), round(float(box.height))
    except PDF_ERRORS:
        return 0, 0


def _info(reader: PdfReader) -> dict[str, str]:
    try:
        info = reader.metadata or {}
        items = {INFO_KEYS[key]: str(value) for key, value in info.items() if key in INFO_KEYS}
    except PDF_ERRORS:
        return {}
    return {key: value.strip()[:500] for key, value in items.items() if value.strip()}


def _xmp(reader: PdfReader) -> dict[str, str]:
    """Dublin Core from the XMP packet; a damaged packet yields nothing, not an error."""
    try:
        xmp = reader.xmp_metadata
        if xmp is None:
            return {}
        found = {"title": _first(xmp.dc_title), "creator": _first(xmp.dc_creator),
                 "date": _first(xmp.dc_date), "language": _first(xmp.dc_language),
                 "identifier": _first(xmp.dc_identifier), "created": _first(xmp.xmp_create_date)}
    except (*PDF_ERRORS, RecursionError):
        return {}
    return {f"xmp_{key}": value[:500] for key, value in found.items() if value}


def _first(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("x-default") or next(iter(value.values()), "")
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value).strip() if value else ""


def _page_text(path: Path, index: int, password: str | None) -> str:
    with reading(path):
        return open_reader(path, password).pages[index].extract_text() or ""


def _pdf_page(source: Path, index: int, password: str | None, text_layer: Path | None,
              out: Path) -> None:
    with reading(source):
        _write_page(open_reader(source, password).pages[index], text_layer, out)


def _image_page(image_path: Path, dpi: float, quality: int, text_layer: Path | None,
                out: Path) -> None:
    """The page image as a one-page PDF, then the text layer laid over it."""
    with Image.open(image_path) as image:
        out.write_bytes(image_pdf(image, dpi, quality))
    if text_layer is not None:
        _add_text_layer(out, text_layer, out)


def image_pdf(image: Image.Image, dpi: float, quality: int, png: Path | None = None) -> bytes:
    """A one-page PDF showing a page image: CCITT G4 for bilevel, else ``raster_pdf``."""
    if image.mode != "1":
        return raster_pdf(image, dpi, quality, png)
    out = io.BytesIO()
    image.save(out, "PDF", resolution=dpi)  # Pillow writes CCITT G4
    return out.getvalue()


def _add_text_layer(image_page: Path, text_layer: Path, out: Path) -> None:
    """Lay Tesseract's text-only page over our one-page image PDF.

    Both pages show the same image upright from the origin, so the text page's content is
    appended scaled to our page, and its fonts added to our resources: no content stream is
    parsed (merging pages with pypdf parses both, and cost more than the rest of the page).
    """
    writer = PdfWriter()
    page = writer.add_page(PdfReader(image_page).pages[0])
    text_page = PdfReader(text_layer).pages[0]
    scale_x = float(page.mediabox.width) / float(text_page.mediabox.width)
    scale_y = float(page.mediabox.height) / float(text_page.mediabox.height)
    resources = page[NameObject("/Resources")].get_object()
    fonts = text_page["/Resources"].get_object().get("/Font")
    if fonts is not None:
        resources[NameObject("/Font")] = fonts.get_object().clone(writer)
    content = DecodedStreamObject()
    content.set_data(b"".join([
        page.get_contents().get_data(),
        f"\nq {scale_x:.6f} 0 0 {scale_y:.6f} 0 0 cm\n".encode(),
        text_page.get_contents().get_data(), b"\nQ\n"]))
    page.replace_contents(content.flate_encode())
    _write_atomic(writer, out)


def raster_pdf(image: Image.Image, dpi: float, quality: int, png: Path | None = None) -> bytes:
    """A one-page PDF showing ``image`` (L or RGB), JPEG or Flate, whichever is smaller.

    Real scans (paper grain) are 3-4 times smaller as JPEG; clean digital pages are 2-3 times
    smaller losslessly, and sharper. Written by hand: pypdf has no public way to add an image.
    ``png``, a PNG file of exactly these pixels, lends its compressed data (PNG predictors are
    a PDF Flate option) instead of deflating the page again.
    """
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=quality)
    found = _png_data(png, image) if png else None
    if found is not None:
        flate, parms = (found if len(found) < jpeg.tell() else None), (
            f" /DecodeParms << /Predictor 15 /Colors {len(image.getbands())} "
            f"/BitsPerComponent 8 /Columns {image.width} >>")
    else:
        flate, parms = _flate_if_smaller(image, jpeg.tell()), ""
    data, name = (flate, "FlateDecode") if flate else (jpeg.getvalue(), "DCTDecode")
    parms = parms if flate else ""
    width, height = image.width * POINTS_PER_INCH / dpi, image.height * POINTS_PER_INCH / dpi
    space = "DeviceGray" if image.mode == "L" else "DeviceRGB"
    draw = f"q {width:.3f} 0 0 {height:.3f} 0 0 cm /Im0 Do Q".encode()
    return _pdf_file([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.3f} {height:.3f}] "
        "/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
        _stream(f"/Type /XObject /Subtype /Image /Width {image.width} /Height {image.height} "
                f"/ColorSpace /{space} /BitsPerComponent 8 /Filter /{name}{parms}", data),
        _stream("", draw),
    ])


def _png_data(png: Path, image: Image.Image) -> bytes | None:
    """The zlib data of a non-interlaced 8-bit gray or RGB PNG of ``image``'s size, else None."""
    data = png.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    position, chunks = 8, []
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body[:13])
            wanted = {"L": 0, "RGB": 2}.get(image.mode)
            if (width, height, depth, colour, interlace) != (*image.size, 8, wanted, 0):
                return None
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind == b"IEND":
            break
        position += 12 + length
    return b"".join(chunks) or None


def _flate_if_smaller(image: Image.Image, jpeg_size: int) -> bytes | None:
    # Deflating a grainy page costs a second and loses; a band of it tells in milliseconds.
    band = image.crop((0, image.height * 7 // 16, image.width, image.height * 9 // 16))
    if len(zlib.compress(band.tobytes(), 6)) * 8 > jpeg_size * 1.5:
        return None
    flate = zlib.compress(image.tobytes(), 6)
    return flate if len(flate) < jpeg_size else None


def _stream(keys: str, data: bytes) -> bytes:
    return f"<< {keys} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def _pdf_file(objects: list[bytes]) -> bytes:
    body, offsets = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"), []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
             f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(body)


def _write_page(page: PageObject, text_layer: Path | None, out: Path) -> None:
    writer = PdfWriter()
    page = writer.add_page(page)
    if text_layer is not None:
        overlay_text(page, PdfReader(text_layer).pages[0])
    _write_atomic(writer, out)


def overlay_text(page: PageObject, text_page: PageObject) -> None:
    """Lay a text-only page (as Tesseract renders the page image) over ``page``.

    The page image was rendered upright from the crop box, so the layer is scaled to the crop
    box and turned back by the page's /Rotate.
    """
    crop = page.cropbox
    x0, y0 = float(crop.left), float(crop.bottom)
    width, height = float(crop.width), float(crop.height)
    rotation = (page.rotation or 0) % 360
    shown_w, shown_h = (height, width) if rotation in (90, 270) else (width, height)
    scale = Transformation().scale(shown_w / float(text_page.mediabox.width),
                                   shown_h / float(text_page.mediabox.height))
    placed = {0: (1, 0, 0, 1, x0, y0),
              90: (0, 1, -1, 0, x0 + width, y0),
              180: (-1, 0, 0, -1, x0 + width, y0 + height),
              270: (0, -1, 1, 0, x0, y0 + height)}[rotation]
    page.merge_transformed_page(text_page, scale.transform(Transformation(placed)))


def _assemble(pages: list[Path], out: Path, metadata: dict[str, str]) -> Path:
    writer = PdfWriter()
    for path in pages:
        writer.add_page(PdfReader(path).pages[0])
    if metadata:
        writer.add_metadata({f"/{key.title()}": value for key, value in metadata.items()})
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    _write_atomic(writer, out)
    return out


def _write_atomic(writer: PdfWriter, out: Path) -> None:
    fd, temp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            writer.write(handle)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
