"""Choosing and reading sources: derivative or master, header sizes, reduced JPEG decoding, and
the per-process LRU of decoded images."""

from __future__ import annotations

import threading
import time

from PIL import Image

import storage
from repository.images.sources import (
    DecodedImages,
    SizedSource,
    SourceFile,
    SourceReader,
    choose_source,
    jpeg_reduction,
)

MASTER = SizedSource(SourceFile("master.png", "a" * 64, "image/png"), 4000, 3000)
WEB = SizedSource(SourceFile("web.jpg", "b" * 64, "image/jpeg"), 1600, 1200)
THUMB = SizedSource(SourceFile("thumb.jpg", "c" * 64, "image/jpeg"), 400, 300)
FULL = (4000, 3000)


def test_the_smallest_source_with_enough_pixels_is_chosen():
    sources = [MASTER, WEB, THUMB]
    assert choose_source(sources, FULL, (0, 0, 4000, 3000), (300, 225)) == THUMB
    assert choose_source(sources, FULL, (0, 0, 4000, 3000), (1000, 750)) == WEB
    assert choose_source(sources, FULL, (0, 0, 2048, 2048), (512, 512)) == WEB   # tile at 1/4
    assert choose_source(sources, FULL, (0, 0, 1024, 1024), (512, 512)) == MASTER  # at 1/2
    assert choose_source(sources, FULL, (0, 0, 4000, 3000), (1601, 1201)) == MASTER


def test_jpeg_reduction_follows_pillow_draft():
    assert jpeg_reduction(WEB, (200, 150)) == 8
    assert jpeg_reduction(WEB, (201, 150)) == 4
    assert jpeg_reduction(WEB, (1600, 1200)) == 1
    assert jpeg_reduction(MASTER, (10, 10)) == 1       # PNG decodes whole


def test_reader_takes_sizes_from_headers_and_decodes_jpeg_reduced(tmp_path):
    store = storage.open_store(f"file://{tmp_path / 'objects'}")
    Image.new("RGB", (1600, 1200), (200, 10, 10)).save(tmp_path / "web.jpg", quality=90)
    info = store.put("web.jpg", tmp_path / "web.jpg", media_type="image/jpeg")
    file = SourceFile("web.jpg", info.sha256, "image/jpeg")
    reader = SourceReader(store, decoded_budget=64 * 1024**2)
    source = reader.sized(file)
    assert (source.width, source.height) == (1600, 1200)
    assert reader.decoded(source, (400, 300)).size == (400, 300)
    assert reader.decoded(source, (401, 300)).size == (800, 600)
    assert reader.decoded(source, (400, 300)) is reader.decoded(source, (390, 290))


def test_decoded_images_stay_within_their_budget():
    images = DecodedImages(budget=3 * 100 * 100)
    for name in "abcd":
        images.get(name, lambda: Image.new("L", (100, 100)))
    assert images.used == 3 * 100 * 100
    assert list(images._images) == ["b", "c", "d"]
    images.get("huge", lambda: Image.new("L", (1000, 1000)))   # larger than it all: not kept
    assert "huge" not in images._images and images.used == 3 * 100 * 100


def test_threads_wanting_one_image_decode_it_once():
    images, loads = DecodedImages(budget=10**7), []

    def load():
        loads.append(1)
        time.sleep(0.2)
        return Image.new("RGB", (10, 10))
    found = []
    threads = [threading.Thread(target=lambda: found.append(images.get("page", load)))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len({id(image) for image in found}) == 1
