"""normalize and derivatives: every awkward image becomes an upright 8-bit page; bombs refused."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageStat

from ingest.errors import TooLarge
from ingest.identify import identify, validate
from ingest.images import clean_for_ocr, estimate_skew, make_derivatives, normalize
from ingest.limits import Limits
from tests.ingest.helpers import PILLOW, VIETNAMESE, render_page

EVERY_KIND = sorted(path.name for path in PILLOW.iterdir())


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / len(a.getbands())


@pytest.mark.parametrize("name", EVERY_KIND)
def test_every_kind_normalizes_to_an_8bit_page(name, page_context):
    source = PILLOW / name
    pages = validate(identify(source)).pages
    page = normalize(page_context(source, index=pages - 1))
    with Image.open(page.path) as image:
        assert image.format == "PNG" and image.mode in ("1", "L", "RGB")
        assert image.size == (page.width, page.height)
        assert image.info["dpi"][0] == pytest.approx(page.dpi, abs=0.01)


@pytest.mark.parametrize("orientation", range(2, 9))
def test_exif_orientation_is_made_upright(orientation, page_context):
    source = PILLOW / f"hopper_orientation_{orientation}.jpg"
    page = normalize(page_context(source))
    with Image.open(page.path) as fixed, Image.open(PILLOW / "hopper.jpg") as upright, \
            Image.open(source) as raw:
        assert _mean_difference(fixed.convert("RGB"), upright.convert("RGB")) < 8
        assert _mean_difference(raw.convert("RGB"), upright.convert("RGB")) > 40


@pytest.mark.parametrize("orientation", range(1, 9))
def test_g4_tiff_orientation_tags_are_honoured(orientation, page_context, tmp_path):
    page = normalize(page_context(PILLOW / f"g4_orientation_{orientation}.tif"))
    with Image.open(page.path) as fixed, Image.open(PILLOW / "g4_orientation_1.tif") as upright:
        assert fixed.mode == "1"
        assert _mean_difference(fixed.convert("L"), upright.convert("L")) < 1


@pytest.mark.parametrize(("name", "mode"), [
    ("16bit.cropped.tif", "L"), ("16bit.MM.deflate.tif", "L"), ("16bit.cropped.jp2", "L"),
    ("pil_sample_cmyk.jpg", "RGB"), ("tiff_strip_cmyk_jpeg.tif", "RGB"),
    ("hopper.Lab.tif", "RGB"), ("multipage.tiff", "RGB"), ("hopper_gray.jpg", "L"),
    ("g4-fillorder-test.tif", "1"),
])
def test_colour_modes_and_depths_become_1_L_or_RGB(name, mode, page_context):
    page = normalize(page_context(PILLOW / name, deskew=False))
    assert page.mode == mode


def test_sixteen_bit_keeps_its_contrast(page_context):
    page = normalize(page_context(PILLOW / "16bit.cropped.tif", deskew=False))
    with Image.open(page.path) as image:
        low, high = image.getextrema()
    assert high - low > 60  # 12-bit-in-16 data is scaled by the depth used, not crushed to black


def test_lab_colours_survive(page_context):
    page = normalize(page_context(PILLOW / "hopper.Lab.tif"))
    with Image.open(page.path) as fixed, Image.open(PILLOW / "hopper.tif") as reference:
        assert _mean_difference(fixed, reference.convert("RGB")) < 6


def test_later_tiff_pages_are_reached(page_context):
    first = normalize(page_context(PILLOW / "g4-multi.tiff", index=0, deskew=False))
    third = normalize(page_context(PILLOW / "g4-multi.tiff", index=2, deskew=False))
    assert third.path.name == "p00003.norm.png" and first.path.name == "p00001.norm.png"
    with Image.open(first.path) as one, Image.open(third.path) as three:
        assert one.tobytes() != three.tobytes()


@pytest.mark.parametrize("angle", [-3.0, 1.5, 4.0])
def test_a_skewed_text_page_is_straightened(angle, page_context, tmp_path):
    page = render_page(VIETNAMESE * 3, dpi=150)
    skewed = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    assert estimate_skew(skewed) == pytest.approx(-angle, abs=0.25)
    skewed.save(tmp_path / "skewed.png", dpi=(150, 150))
    assert normalize(page_context(tmp_path / "skewed.png")).skew == pytest.approx(-angle, abs=0.25)


@pytest.mark.parametrize("name", ["hopper.jpg", "flower.jpg", "flower2.jpg",
                                  "test-card-lossless.jp2"])
def test_photographs_are_not_deskewed(name, page_context):
    assert normalize(page_context(PILLOW / name)).skew == 0.0


def test_a_missing_resolution_is_assumed_and_noted(page_context):
    page = normalize(page_context(PILLOW / "hopper.webp", dpi=400))
    assert page.dpi == 400 and "assumed 400 dpi" in page.notes[0]


def _png_bomb(path, width, height):
    """A tiny PNG whose header claims width×height bilevel pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 8, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows)
                     + chunk(b"IEND", b""))
    return path


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, page_context):
    bomb = _png_bomb(tmp_path / "bomb.png", 100_000, 100_000)
    with pytest.raises(TooLarge, match="too many pixels"):
        validate(identify(bomb))
    with pytest.raises(TooLarge):
        normalize(page_context(bomb))


def test_our_own_pixel_limit_holds_below_pillows(tmp_path, page_context):
    big = _png_bomb(tmp_path / "big.png", 3000, 2000)
    with pytest.raises(TooLarge, match="pixels"):
        validate(identify(big), Limits(max_pixels=5_000_000))
    with pytest.raises(TooLarge, match="pixels"):
        normalize(page_context(big, limits=Limits(max_pixels=5_000_000)))


def test_derivatives_fit_their_boxes(page_context, vietnamese_png):
    ctx = page_context(vietnamese_png, web_size=800, thumb_size=200)
    ctx = ctx.with_(normalized=normalize(ctx))
    outputs = make_derivatives(ctx)
    for name, box in (("web", 800), ("thumb", 200)):
        with Image.open(outputs[name]) as image:
            assert image.format == "JPEG" and max(image.size) == box


def test_clean_for_ocr_evens_out_the_light_and_keeps_geometry(page_context, tmp_path):
    page = render_page(VIETNAMESE, dpi=150)
    ramp = Image.linear_gradient("L").rotate(90).resize(page.size).point(lambda v: 255 - v // 2)
    dim = ImageChops.multiply(page, ramp)
    dim.save(tmp_path / "dim.png", dpi=(150, 150))
    ctx = page_context(tmp_path / "dim.png", deskew=False)
    ctx = ctx.with_(normalized=normalize(ctx))
    cleaned = clean_for_ocr(ctx)
    with Image.open(cleaned) as image:
        assert image.size == dim.size and image.mode == "L"
        right_margin = image.crop((image.width - 20, 0, image.width, image.height))
        assert ImageStat.Stat(right_margin).mean[0] > 250
    assert ImageStat.Stat(dim.crop((dim.width - 20, 0, dim.width, dim.height))).mean[0] < 160


def test_bilevel_pages_go_to_ocr_as_they_are(page_context):
    ctx = page_context(PILLOW / "g4_orientation_1.tif")
    ctx = ctx.with_(normalized=normalize(ctx))
    assert clean_for_ocr(ctx) == ctx.normalized.path
