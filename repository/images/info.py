"""The Image Information document (``info.json``) of one page image: IIIF Image API 3.0, level 2."""

from __future__ import annotations

from collections.abc import Iterable

from repository.images.params import Limits

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE = "level2"
PROFILE_URI = "http://iiif.io/api/image/3/level2.json"
# Level 2 already promises jpg and png, color and bitonal; the rest is declared.
LEVEL2_FORMATS = ("jpg", "png")
EXTRA_QUALITIES = ("color", "gray", "bitonal")
EXTRA_FEATURES = ("canonicalLinkHeader", "mirroring", "profileLinkHeader", "rotationArbitrary",
                  "sizeUpscaling")
SMALLEST_SIZE = 128  # the sizes list stops before levels whose long side is below this


def info_document(service_id: str, width: int, height: int, *, limits: Limits, tile_size: int,
                  formats: Iterable[str]) -> dict:
    """The info.json of a ``width`` × ``height`` image served at ``service_id``."""
    return {
        "@context": CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": PROFILE,
        "width": width,
        "height": height,
        "maxWidth": limits.max_width,
        "maxHeight": limits.max_height,
        "maxArea": limits.max_area,
        "sizes": sizes(width, height, limits),
        "tiles": [{"width": tile_size, "height": tile_size,
                   "scaleFactors": scale_factors(width, height, tile_size)}],
        "extraQualities": list(EXTRA_QUALITIES),
        "extraFormats": [name for name in formats if name not in LEVEL2_FORMATS],
        "extraFeatures": list(EXTRA_FEATURES),
    }


def scale_factors(width: int, height: int, tile_size: int) -> list[int]:
    """Powers of two from 1 until the whole image fits in one tile."""
    factors = [1]
    while max(width, height) > tile_size * factors[-1]:
        factors.append(factors[-1] * 2)
    return factors


def sizes(width: int, height: int, limits: Limits) -> list[dict]:
    """The pyramid's levels (as OpenSeadragon computes them: rounded up), smallest first,
    within the service's limits."""
    found = []
    factor = 1
    while True:
        level = (-(-width // factor), -(-height // factor))
        if factor > 1 and max(level) < SMALLEST_SIZE:
            break
        if level[0] <= limits.max_width and level[1] <= limits.max_height \
                and level[0] * level[1] <= limits.max_area:
            found.append({"width": level[0], "height": level[1]})
        if max(level) == 1:
            break
        factor *= 2
    return found[::-1]
