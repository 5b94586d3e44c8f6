"""Rendering one resolved IIIF request from decoded pixels, in the specification's order:
region, size, mirroring and rotation, quality, then the encoded format."""

from __future__ import annotations

import math
from typing import BinaryIO

from PIL import Image, ImageDraw, ImageFont, features

from repository.images.params import FORMATS, ResolvedRequest, Rotation

# Bump when the output for a given request changes (encoder settings, resampling), so that
# cached renders made by the older code are not served any more.
RENDER_VERSION = "1"
WHITE = {"L": 255, "LA": (255, 255), "RGB": (255, 255, 255), "RGBA": (255, 255, 255, 255)}
TRANSPARENT = {"LA": (0, 0), "RGBA": (0, 0, 0, 0)}
STAMP_COLOURS = {"1": (0, 255), "L": (40, 235), "LA": ((40, 255), (235, 255)),
                 "RGB": ((40, 40, 40), (235, 235, 235)),
                 "RGBA": ((40, 40, 40, 255), (235, 235, 235, 255))}
# Formats whose arbitrary rotations get a transparent background (the specification's advice).
ALPHA_FORMATS = frozenset({"png", "webp", "tif"})
RIGHT_ANGLES = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
                270: Image.Transpose.ROTATE_90}
ENCODERS = {
    "jpg": ("JPEG", {"quality": 85}),
    "png": ("PNG", {"compress_level": 6}),
    "webp": ("WEBP", {"quality": 80, "method": 4}),
    "gif": ("GIF", {}),
    "tif": ("TIFF", {"compression": "tiff_adobe_deflate"}),
}


def available_formats() -> tuple[str, ...]:
    """The IIIF formats this Pillow can write (WebP needs libwebp)."""
    return tuple(name for name in FORMATS if name != "webp" or features.check("webp"))


def render(image: Image.Image, full_size: tuple[int, int], request: ResolvedRequest,
           out: BinaryIO, watermark: str | None = None) -> None:
    """Write ``request`` (in the coordinates of the ``full_size`` image) rendered from
    ``image``, the chosen source decoded at whatever scale, encoded, to ``out``; with the
    ``watermark`` line stamped on it when the item's access rule asks for one."""
    scale_x, scale_y = image.width / full_size[0], image.height / full_size[1]
    x, y, width, height = request.box
    box = (x * scale_x, y * scale_y, (x + width) * scale_x, (y + height) * scale_y)
    result = extract(image, box, (request.width, request.height))
    result = rotate(result, request.rotation, transparent=request.format in ALPHA_FORMATS)
    result = apply_quality(result, request.quality)
    if watermark:
        result = stamp(result, watermark)
    encode(result, request.format, out)


def extract(image: Image.Image, box: tuple[float, float, float, float],
            size: tuple[int, int]) -> Image.Image:
    """The pixels under ``box`` (fractional, in ``image`` coordinates) scaled to ``size``.
    Cropping comes first, so that only the region is converted and resampled."""
    left, top = math.floor(box[0]), math.floor(box[1])
    right, bottom = min(image.width, math.ceil(box[2])), min(image.height, math.ceil(box[3]))
    part = image.crop((left, top, right, bottom))
    inner = (box[0] - left, box[1] - top, min(box[2] - left, part.width),
             min(box[3] - top, part.height))
    if part.size == size and inner == (0, 0, part.width, part.height):
        return part
    return resamplable(part).resize(size, Image.Resampling.LANCZOS, box=inner, reducing_gap=3.0)


def rotate(image: Image.Image, rotation: Rotation, *, transparent: bool) -> Image.Image:
    """Mirror on the vertical axis if asked, then turn clockwise; the canvas grows to hold
    the turned image, on a transparent or white ground."""
    if rotation.mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if rotation.degrees == 0:
        return image
    if rotation.is_right_angle:
        return image.transpose(RIGHT_ANGLES[int(rotation.degrees)])
    work = resamplable(image)
    if transparent:
        work = work.convert("LA" if work.mode in ("L", "LA") else "RGBA")
    ground = (TRANSPARENT if transparent else WHITE)[work.mode]
    return work.rotate(-rotation.degrees, Image.Resampling.BICUBIC, expand=True,
                       fillcolor=ground)


def apply_quality(image: Image.Image, quality: str) -> Image.Image:
    """``default`` keeps the source's kind; ``color``, ``gray`` and ``bitonal`` convert."""
    if quality == "default":
        return image
    alpha = image.mode in ("LA", "RGBA")
    if quality == "color":
        return image if image.mode in ("RGB", "RGBA") else image.convert(
            "RGBA" if alpha else "RGB")
    if quality == "gray":
        return image if image.mode in ("L", "LA") else image.convert("LA" if alpha else "L")
    # Ink or paper, split at the middle gray: dithering would speckle the text of a page.
    return flatten(image).convert("L").convert("1", dither=Image.Dither.NONE)


def encode(image: Image.Image, image_format: str, out: BinaryIO) -> None:
    if image_format in ("jpg", "gif"):
        image = flatten(image)
    if image_format == "jpg" and image.mode == "1":
        image = image.convert("L")
    name, options = ENCODERS[image_format]
    if image_format == "tif" and image.mode == "1":
        options = {"compression": "group4"}
    image.save(out, name, **options)


def stamp(image: Image.Image, text: str) -> Image.Image:
    """``text`` in the lower right corner, dark on a pale box, sized to the image: every
    tile of a page carries it, so that no piece of the page leaves unmarked."""
    image = image.copy()
    size = max(10, min(image.size) // 24)
    font = ImageFont.load_default(size=size)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    margin = size // 3
    x = max(0, image.width - (right - left) - 2 * margin)
    y = max(0, image.height - (bottom - top) - 2 * margin)
    ink, paper = STAMP_COLOURS[image.mode]
    draw.rectangle((x, y, image.width, image.height), fill=paper)
    draw.text((x + margin - left, y + margin - top), text, font=font, fill=ink)
    return image


def flatten(image: Image.Image) -> Image.Image:
    """Put an image with alpha on white paper (for formats without transparency)."""
    if image.mode not in ("LA", "RGBA"):
        return image
    mode = image.mode[:-1]
    paper = Image.new(mode, image.size, WHITE[mode])
    paper.paste(image.convert(mode), mask=image.getchannel("A"))
    return paper


def resamplable(image: Image.Image) -> Image.Image:
    """Bilevel pixels become gray before resampling, so that scaled text is smooth."""
    return image.convert("L") if image.mode == "1" else image
