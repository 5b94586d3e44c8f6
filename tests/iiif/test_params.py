"""Parsing and resolving IIIF request parameters, without HTTP: pixels, limits, canonical forms."""

import pytest

from repository.images.errors import BadImageRequest, ImageTooLarge, UnsupportedImageRequest
from repository.images.info import scale_factors, sizes
from repository.images.params import Limits, parse_request, resolve

LIMITS = Limits(max_width=8192, max_height=8192, max_area=4096 * 4096)


def resolved(params: str, width=1000, height=800, limits=LIMITS):
    return resolve(parse_request(*params.split("/")), width, height, limits)


@pytest.mark.parametrize(("params", "canonical"), [
    ("full/max/0/default.jpg", "full/max/0/default.jpg"),
    ("square/max/0/default.jpg", "100,0,800,800/max/0/default.jpg"),
    ("0,0,1000,800/1000,/0/default.jpg", "full/max/0/default.jpg"),
    ("pct:0,0,100,100/pct:100/360/default.jpg", "full/max/0/default.jpg"),
    ("pct:50,50,50,50/max/0/gray.png", "500,400,500,400/max/0/gray.png"),
    ("900,700,500,500/max/0/default.jpg", "900,700,100,100/max/0/default.jpg"),
    ("full/500,/90/color.webp", "full/500,400/90/color.webp"),
    ("full/!400,400/!22.50/bitonal.png", "full/400,320/!22.5/bitonal.png"),
    ("full/^1500,/0/default.jpg", "full/^1500,1200/0/default.jpg"),
    ("full/^max/0/default.jpg", "full/^max/0/default.jpg"),
    ("full/^500,/0/default.jpg", "full/500,400/0/default.jpg"),
    ("full/333,/0.5/default.jpg", "full/333,266/0.5/default.jpg"),
])
def test_canonical_forms(params, canonical):
    assert resolved(params).canonical == canonical


def test_max_shrinks_to_the_limits_and_upscaling_grows_to_them():
    big = resolved("full/max/0/default.jpg", width=5000, height=4000)
    assert (big.width, big.height) == (4579, 3663)
    assert big.width * big.height <= LIMITS.max_area
    assert big.canonical == "full/max/0/default.jpg"
    narrow = resolved("full/^max/0/default.jpg", width=100, height=20000)
    assert (narrow.width, narrow.height) == (40, 8192)


def test_sizes_round_half_up_as_viewers_do():
    # 501 × 401 at half width: 250.5 → 251, 200.5 → 201 (Python's round would give 250, 200)
    result = resolved("full/pct:50/0/default.jpg", width=501, height=401)
    assert (result.width, result.height) == (251, 201)


@pytest.mark.parametrize("params", [
    "full/1001,/0/default.jpg", "full/!2000,2000/0/default.jpg", "full/pct:100.5/0/default.jpg",
    "0,0,10,10/11,/0/default.jpg", "full/0,/0/default.jpg", "1000,0,1,1/max/0/default.jpg",
    "pct:0,0,0.01,50/max/0/default.jpg", "full/max/360.5/default.jpg",
])
def test_bad_requests(params):
    with pytest.raises(BadImageRequest) as caught:
        resolved(params)
    assert not isinstance(caught.value, ImageTooLarge)


@pytest.mark.parametrize("params", [
    "full/^8193,/0/default.jpg", "full/^4097,4097/0/default.jpg", "full/^pct:1000/0/default.jpg",
])
def test_too_large(params):
    with pytest.raises(ImageTooLarge, match="more than this server renders"):
        resolved(params)


def test_unsupported_formats_are_501_and_unknown_ones_400():
    with pytest.raises(UnsupportedImageRequest):
        parse_request("full", "max", "0", "default.jp2")
    with pytest.raises(UnsupportedImageRequest):
        parse_request("full", "max", "0", "default.webp", formats=("jpg", "png"))
    with pytest.raises(BadImageRequest):
        parse_request("full", "max", "0", "default.exe")


def test_pyramid_of_info_json():
    assert scale_factors(1000, 800, 512) == [1, 2]
    assert scale_factors(512, 512, 512) == [1]
    assert scale_factors(5000, 7000, 512) == [1, 2, 4, 8, 16]
    assert sizes(1000, 800, LIMITS) == [{"width": 250, "height": 200},
                                        {"width": 500, "height": 400},
                                        {"width": 1000, "height": 800}]
    assert sizes(10000, 5000, LIMITS)[-1] == {"width": 5000, "height": 2500}  # within maxArea
