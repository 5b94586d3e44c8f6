"""PDF stages: born-digital text, passwords, rendering, and the searchable PDF read back."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter

from ingest import pdf
from ingest.context import PageContext
from ingest.errors import CorruptFile, EncryptedPdf, TruncatedFile, WrongPassword
from ingest.hocr import parse_hocr
from ingest.identify import identify, validate
from ingest.images import normalize
from ingest.ocr import ocr_page, worker_engine
from tests.ingest.helpers import BAD, cer, render_page

PYPDF = BAD / "pdf" / "pypdf"
CRAZYONES = PYPDF / "crazyones.pdf"
LIBREOFFICE = PYPDF / "libreoffice-writer-password.pdf"
LINE = "Thư viện tỉnh Hà Nội năm 1945"


def _ocr(ctx):
    ctx = ctx.with_(normalized=normalize(ctx))
    return ctx.with_(ocr=ocr_page(ctx, worker_engine()))


def test_born_digital_text_is_kept(page_context):
    text = pdf.page_text(page_context(CRAZYONES, kind="pdf"))
    expected = (PYPDF / "crazyones.txt").read_text(encoding="utf-8")
    assert cer(expected, text) < 0.005


@pytest.mark.parametrize(("text", "needed"), [
    ("", True), ("  12 \n", True), ("- 7 -", True), ("Chương một: Hà Nội", False),
])
def test_pages_with_too_little_text_of_their_own_get_ocr(text, needed):
    assert pdf.needs_ocr(text) is needed


def test_an_encrypted_pdf_asks_for_its_password():
    with pytest.raises(EncryptedPdf) as raised:
        validate(identify(LIBREOFFICE))
    assert raised.value.code == "encrypted" and raised.value.needs_password
    assert "What is the password" in raised.value.message


def test_the_password_opens_it(page_context):
    info = validate(identify(LIBREOFFICE), password="openpassword")
    assert info.encrypted and info.pages >= 1
    text = pdf.page_text(page_context(LIBREOFFICE, kind="pdf", password="openpassword"))
    assert text.strip()


def test_a_wrong_password_says_so():
    with pytest.raises(WrongPassword, match="does not open"):
        validate(identify(LIBREOFFICE), password="guess")


@pytest.mark.parametrize(("name", "password"), [
    ("encryption/r4-aes-user-password.pdf", "asdfzxcv"),  # AES-128 needs cryptography
    ("crazyones-encrypted-256.pdf", "password"),  # AES-256
    ("encryption/r6-owner-password.pdf", None),  # owner password only: opens without asking
])
def test_aes_and_owner_only_encryption(name, password, page_context):
    assert validate(identify(PYPDF / name), password=password).encrypted
    assert pdf.page_text(page_context(PYPDF / name, kind="pdf", password=password)).strip()


def test_a_cut_pdf_is_truncated_or_corrupt(tmp_path):
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(CRAZYONES.read_bytes()[:4000])
    with pytest.raises((TruncatedFile, CorruptFile)) as raised:
        validate(identify(cut))
    assert raised.value.code in ("truncated", "corrupt")


def test_render_page_uses_pdftoppm(page_context):
    image = pdf.render_page(page_context(CRAZYONES, kind="pdf", dpi=60))
    with Image.open(image) as page:
        assert page.info["dpi"][0] == pytest.approx(60, abs=1)
        assert page.width == pytest.approx(612 * 60 / 72, abs=2)


@pytest.fixture(scope="module")
def image_item(tmp_path_factory):
    """A rendered gray page and a bilevel page, OCRed, as one-page PDFs."""
    work = tmp_path_factory.mktemp("item")
    gray, bilevel = work / "gray.png", work / "bilevel.tif"
    page = render_page(LINE + "\nTrang hai của cuốn sách", dpi=300)
    page.save(gray, dpi=(300, 300))
    page.point(lambda value: 255 if value > 128 else 0).convert("1").save(
        bilevel, dpi=(300, 300), compression="group4")
    parts = []
    for number, source in enumerate((gray, bilevel)):
        (work / str(number)).mkdir()
        ctx = _ocr(PageContext(work_dir=work / str(number), source=source))
        parts.append(pdf.page_pdf(ctx))
    return work, parts


def test_searchable_pdf_reads_back_its_ocr_text(image_item, page_context):
    work, parts = image_item
    born_digital = pdf.page_pdf(page_context(CRAZYONES, kind="pdf"))
    item = pdf.assemble([*parts, born_digital], work / "item.pdf", {"title": "Sách thử"})
    reader = PdfReader(item)
    assert len(reader.pages) == 3
    assert reader.metadata["/Title"] == "Sách thử"
    for page in reader.pages[:2]:
        assert cer(LINE, page.extract_text().splitlines()[0]) < 0.05
    assert "crazy ones" in reader.pages[2].extract_text()
    assert not [name for name in work.iterdir() if name.name.startswith(".item.pdf")]


def _image_filter(page):
    xobjects = page["/Resources"]["/XObject"]
    (image,) = [xobjects[name].get_object() for name in xobjects]
    return str(image["/Filter"])


def test_bilevel_pages_are_g4_and_clean_gray_pages_lossless(image_item):
    _work, (gray, bilevel) = image_item
    assert _image_filter(PdfReader(gray).pages[0]) == "/FlateDecode"
    assert "/CCITTFaxDecode" in _image_filter(PdfReader(bilevel).pages[0])


def test_scans_with_paper_grain_are_jpeg(tmp_path):
    clean = render_page(LINE, dpi=300)
    grain = ImageChops.darker(clean, Image.effect_noise(clean.size, 8).point(lambda v: v + 100))
    path = tmp_path / "grain.pdf"
    path.write_bytes(pdf.raster_pdf(grain.convert("RGB"), 300, 75))
    page = PdfReader(path).pages[0]
    assert _image_filter(page) == "/DCTDecode"
    assert float(page.mediabox.width) == pytest.approx(clean.width * 72 / 300, abs=0.01)
    with Image.open(io.BytesIO(page.images[0].data)) as embedded:
        assert embedded.size == clean.size and embedded.mode == "RGB"


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_the_text_layer_lands_on_a_rotated_scanned_page(rotation, tmp_path, page_context):
    scanned = tmp_path / "scanned.pdf"
    # Stored turned counter-clockwise, shown turned back by /Rotate (clockwise): reads upright.
    render_page(LINE, dpi=200).rotate(rotation, expand=True).save(scanned, "PDF", resolution=200)
    writer = PdfWriter(clone_from=scanned)
    writer.pages[0].rotate(rotation)
    writer.write(scanned)
    ctx = page_context(scanned, kind="pdf", dpi=200, deskew=False)
    ctx = _ocr(ctx.with_(image=pdf.render_page(ctx)))
    page = pdf.page_pdf(ctx)
    assert LINE.split()[0] in PdfReader(page).pages[0].extract_text()
    assert _first_word_box(page) == pytest.approx(_hocr_first_word_box(ctx), abs=6)


def _first_word_box(page_pdf):
    """Where poppler sees the first word on the page as shown (points, origin top left)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    html = subprocess.run(["pdftotext", "-bbox", str(page_pdf), "-"], capture_output=True,
                          check=True, text=True).stdout
    word = html.split("<word ", 1)[1].split(">", 1)[0]
    fields = dict(part.split("=") for part in word.split())
    return [float(fields[key].strip('"')) for key in ("xMin", "yMin", "xMax", "yMax")]


def _hocr_first_word_box(ctx):
    box = parse_hocr(ctx.ocr.hocr).words[0]["bbox"]
    return [value * 72 / ctx.normalized.dpi for value in box]
