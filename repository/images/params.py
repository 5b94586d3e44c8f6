"""IIIF Image API 3.0 request parameters: parsed from the URL, then resolved against one image.

``parse_request`` checks the syntax of ``region/size/rotation/quality.format`` (BadImageRequest,
400, for nonsense; UnsupportedImageRequest, 501, for a IIIF feature this server does not offer).
``resolve`` turns a parsed request into pixels for an image of known size under the service's
limits, and names the result canonically: that name keys the cache and fills the Link header.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

from repository.errors import N_
from repository.images.errors import BadImageRequest, ImageTooLarge, UnsupportedImageRequest

FORMATS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
           "tif": "image/tiff"}
# Formats the specification names that this server never produces: 501 rather than 400.
UNSUPPORTED_FORMATS = frozenset({"jp2", "pdf"})
QUALITIES = ("default", "color", "gray", "bitonal")

_NUMBER = r"(\d{1,9}(?:\.\d{1,9})?|\.\d{1,9})"
_PIXELS = re.compile(r"(\d{1,9}),(\d{1,9}),(\d{1,9}),(\d{1,9})")
_PERCENT = re.compile(rf"pct:{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}")
_WIDTH_HEIGHT = re.compile(r"(\d{1,9})?,(\d{1,9})?")
_PERCENT_SIZE = re.compile(rf"pct:{_NUMBER}")
# No leading zeros, at most three digits before the point: "0123" is a typo, not 123 degrees.
_ROTATION = re.compile(r"(!)?((?:0|[1-9]\d{0,2})(?:\.\d{1,9})?)")


@dataclass(frozen=True)
class Region:
    """``full``, ``square``, ``pixels`` (x,y,w,h) or ``percent`` (pct:x,y,w,h), as written."""

    kind: str
    text: str
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class Size:
    """``max``, ``width`` (w,), ``height`` (,h), ``exact`` (w,h), ``confined`` (!w,h) or
    ``percent`` (pct:n); ``upscale`` is the ``^`` prefix that allows enlarging."""

    kind: str
    text: str
    upscale: bool = False
    width: int | None = None
    height: int | None = None
    percent: float | None = None


@dataclass(frozen=True)
class Rotation:
    """Clockwise degrees in [0, 360), after mirroring on the vertical axis when ``mirror``."""

    degrees: float = 0.0
    mirror: bool = False

    @property
    def is_right_angle(self) -> bool:
        return self.degrees % 90 == 0


@dataclass(frozen=True)
class ImageRequest:
    region: Region
    size: Size
    rotation: Rotation
    quality: str
    format: str


@dataclass(frozen=True)
class Limits:
    """The largest output the service renders (``maxWidth``, ``maxHeight``, ``maxArea``)."""

    max_width: int = 8192
    max_height: int = 8192
    max_area: int = 4096 * 4096


@dataclass(frozen=True)
class ResolvedRequest:
    """A request in pixels: the region box of the full image, the output size before
    rotation, and the canonical ``region/size/rotation/quality.format``."""

    box: tuple[int, int, int, int]
    width: int
    height: int
    rotation: Rotation
    quality: str
    format: str
    canonical: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


def parse_request(region: str, size: str, rotation: str, quality_format: str,
                  formats: Collection[str] = tuple(FORMATS)) -> ImageRequest:
    """Parse the four path segments; ``formats`` are those this server can encode."""
    quality, image_format = parse_quality_format(quality_format, formats)
    return ImageRequest(parse_region(region), parse_size(size), parse_rotation(rotation),
                        quality, image_format)


def parse_region(text: str) -> Region:
    if text in ("full", "square"):
        return Region(text, text)
    for kind, pattern in (("pixels", _PIXELS), ("percent", _PERCENT)):
        match = pattern.fullmatch(text)
        if match:
            return Region(kind, text, tuple(float(value) for value in match.groups()))
    raise BadImageRequest(N_("The region '%(region)s' is not a IIIF region"), region=text)


def parse_size(text: str) -> Size:
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return Size("max", text, upscale)
    percent = _PERCENT_SIZE.fullmatch(body)
    if percent:
        return Size("percent", text, upscale, percent=_positive(float(percent.group(1)), text))
    confined = body.startswith("!")
    match = _WIDTH_HEIGHT.fullmatch(body[1:] if confined else body)
    if not match or match.groups() == (None, None):
        raise BadImageRequest(N_("The size '%(size)s' is not a IIIF size"), size=text)
    width, height = (None if value is None else _positive(int(value), text)
                     for value in match.groups())
    if confined and (width is None or height is None):
        raise BadImageRequest(N_("The size '%(size)s' is not a IIIF size"), size=text)
    kind = "confined" if confined else (
        "exact" if width and height else "width" if width else "height")
    return Size(kind, text, upscale, width=width, height=height)


def parse_rotation(text: str) -> Rotation:
    match = _ROTATION.fullmatch(text)
    degrees = float(match.group(2)) if match else -1.0
    if not 0 <= degrees <= 360:
        raise BadImageRequest(
            N_("The rotation '%(rotation)s' is not a number of degrees from 0 to 360"),
            rotation=text)
    return Rotation(degrees % 360, mirror=bool(match.group(1)))


def parse_quality_format(text: str, formats: Collection[str] = tuple(FORMATS)
                         ) -> tuple[str, str]:
    quality, dot, image_format = text.rpartition(".")
    if not dot:
        raise BadImageRequest(N_("'%(text)s' should name a quality and a format, as in "
                                 "default.jpg"), text=text)
    if quality not in QUALITIES:
        raise BadImageRequest(
            N_("The quality '%(quality)s' is not one of default, color, gray, bitonal"),
            quality=quality)
    if image_format in formats:
        return quality, image_format
    if image_format in UNSUPPORTED_FORMATS or image_format in FORMATS:
        raise UnsupportedImageRequest(N_("This server does not produce the format '%(format)s'"),
                                      format=image_format)
    raise BadImageRequest(N_("The format '%(format)s' is not a IIIF image format"),
                          format=image_format)


def _positive(value: float, text: str) -> float:
    if value <= 0:
        raise BadImageRequest(N_("The size '%(size)s' asks for no pixels"), size=text)
    return value


def resolve(request: ImageRequest, width: int, height: int, limits: Limits) -> ResolvedRequest:
    """The request in pixels for a ``width`` × ``height`` image, checked against ``limits``."""
    box = region_box(request.region, width, height)
    out_width, out_height = output_size(request.size, box[2], box[3], limits)
    canonical = "/".join((
        canonical_region(box, width, height),
        canonical_size((out_width, out_height), box[2], box[3], limits),
        canonical_rotation(request.rotation),
        f"{request.quality}.{request.format}",
    ))
    return ResolvedRequest(box, out_width, out_height, request.rotation, request.quality,
                           request.format, canonical)


def region_box(region: Region, width: int, height: int) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` in full-image pixels, clipped to the image."""
    if region.kind == "full":
        return 0, 0, width, height
    if region.kind == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    if region.kind == "percent":
        px, py, pw, ph = region.values
        x, y = _round(px * width / 100), _round(py * height / 100)
        w, h = _round((px + pw) * width / 100) - x, _round((py + ph) * height / 100) - y
    else:
        x, y, w, h = (int(value) for value in region.values)
    if w <= 0 or h <= 0:
        raise BadImageRequest(N_("The region '%(region)s' holds no pixels"), region=region.text)
    if x >= width or y >= height:
        raise BadImageRequest(N_("The region '%(region)s' lies outside the image"),
                              region=region.text)
    return x, y, min(w, width - x), min(h, height - y)


def output_size(size: Size, region_width: int, region_height: int,
                limits: Limits) -> tuple[int, int]:
    """The output width and height for a region of the given size, before rotation."""
    width, height = _requested_size(size, region_width, region_height, limits)
    if not size.upscale and (width > region_width or height > region_height):
        raise BadImageRequest(
            N_("The size '%(size)s' would enlarge the region; only '^%(size)s' may do that"),
            size=size.text)
    if width > limits.max_width or height > limits.max_height or \
            width * height > limits.max_area:
        raise ImageTooLarge(
            N_("%(width)d×%(height)d pixels is more than this server renders "
               "(at most %(max_width)d×%(max_height)d, %(max_area)d pixels in all)"),
            width=width, height=height, max_width=limits.max_width,
            max_height=limits.max_height, max_area=limits.max_area)
    return width, height


def _requested_size(size: Size, region_width: int, region_height: int,
                    limits: Limits) -> tuple[int, int]:
    if size.kind == "max":
        return max_size(region_width, region_height, limits, upscale=size.upscale)
    if size.kind == "exact":
        return size.width, size.height
    if size.kind == "width":
        return size.width, max(1, _round(region_height * size.width / region_width))
    if size.kind == "height":
        return max(1, _round(region_width * size.height / region_height)), size.height
    if size.kind == "percent":
        return (max(1, _round(region_width * size.percent / 100)),
                max(1, _round(region_height * size.percent / 100)))
    scale = min(size.width / region_width, size.height / region_height)
    return (max(1, min(size.width, _round(region_width * scale))),
            max(1, min(size.height, _round(region_height * scale))))


def max_size(region_width: int, region_height: int, limits: Limits,
             upscale: bool = False) -> tuple[int, int]:
    """The largest size within ``limits`` keeping the aspect ratio (never above the region's
    own size unless ``upscale``)."""
    scale = min(limits.max_width / region_width, limits.max_height / region_height,
                math.sqrt(limits.max_area / (region_width * region_height)))
    if not upscale:
        scale = min(scale, 1.0)
    width = max(1, math.floor(region_width * scale))
    height = max(1, math.floor(region_height * scale))
    while width * height > limits.max_area:  # guard against the last float ulp
        width, height = (width - 1, height) if width >= height else (width, height - 1)
    return width, height


def canonical_region(box: tuple[int, int, int, int], width: int, height: int) -> str:
    return "full" if box == (0, 0, width, height) else ",".join(map(str, box))


def canonical_size(size: tuple[int, int], region_width: int, region_height: int,
                   limits: Limits) -> str:
    upscaled = size[0] > region_width or size[1] > region_height
    if size == max_size(region_width, region_height, limits, upscale=upscaled):
        return "^max" if upscaled else "max"
    return f"{'^' if upscaled else ''}{size[0]},{size[1]}"


def canonical_rotation(rotation: Rotation) -> str:
    degrees = rotation.degrees
    number = str(int(degrees)) if degrees.is_integer() else f"{degrees:.9f}".rstrip("0")
    return f"{'!' if rotation.mirror else ''}{number}"


def _round(value: float) -> int:
    """Half up, as clients (OpenSeadragon, Mirador) compute sizes, not Python's half even."""
    return math.floor(value + 0.5)
