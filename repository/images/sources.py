"""Where a rendered image's pixels come from: the master, or a smaller derivative that suffices.

Each stored image's pixel size is read from its header once per process. Decoded images are
kept in a small per-process LRU bounded in bytes, so that a burst of tile requests on one page
(a reader zooming in) decodes its master once, not once per tile.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

import storage

HEADER_BYTES = 256 * 1024   # enough for a PNG's IHDR or a JPEG's frame header after EXIF/ICC
KNOWN_SIZES = 4096          # header sizes remembered per process
JPEG_REDUCTIONS = (8, 4, 2, 1)


@dataclass(frozen=True)
class SourceFile:
    """A stored page image: its object key, content hash and media type."""

    key: str
    sha256: str
    media_type: str


@dataclass(frozen=True)
class SizedSource:
    file: SourceFile
    width: int
    height: int


def choose_source(sources: Sequence[SizedSource], full: tuple[int, int],
                  box: tuple[int, int, int, int], output: tuple[int, int]) -> SizedSource:
    """The smallest source holding at least the output's pixels for ``box`` (a region of the
    ``full`` image), so that nothing is enlarged from a derivative; else the largest (master)."""
    by_area = sorted(sources, key=lambda source: source.width * source.height)
    for source in by_area:
        scale_x, scale_y = source.width / full[0], source.height / full[1]
        if box[2] * scale_x >= output[0] and box[3] * scale_y >= output[1]:
            return source
    return by_area[-1]


def jpeg_reduction(source: SizedSource, needed: tuple[int, int]) -> int:
    """The factor by which a JPEG may be decoded smaller (``Image.draft``) and still give at
    least ``needed`` pixels for the whole image; Pillow picks it by this same rule."""
    if source.file.media_type != "image/jpeg":
        return 1
    room = min(source.width // max(1, needed[0]), source.height // max(1, needed[1]))
    return next(factor for factor in JPEG_REDUCTIONS if room >= factor or factor == 1)


class SourceReader:
    """Reads stored page images: header sizes and decoded pixels, both remembered."""

    def __init__(self, store: storage.ObjectStore, decoded_budget: int) -> None:
        self._store = store
        self._sizes: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._sizes_lock = threading.Lock()
        self._decoded = DecodedImages(decoded_budget)

    def sized(self, file: SourceFile) -> SizedSource:
        return SizedSource(file, *self.size_of(file))

    def size_of(self, file: SourceFile) -> tuple[int, int]:
        """The pixel size from the image's header (its first bytes, or all if need be)."""
        cache_key = (file.key, file.sha256)
        with self._sizes_lock:
            if cache_key in self._sizes:
                self._sizes.move_to_end(cache_key)
                return self._sizes[cache_key]
        size = self._read_size(file)
        with self._sizes_lock:
            self._sizes[cache_key] = size
            while len(self._sizes) > KNOWN_SIZES:
                self._sizes.popitem(last=False)
        return size

    def _read_size(self, file: SourceFile) -> tuple[int, int]:
        with self._store.open(file.key, byte_range=(0, HEADER_BYTES - 1)) as stream:
            head = stream.read()
        try:
            with Image.open(io.BytesIO(head)) as image:
                return image.size
        except (UnidentifiedImageError, OSError, SyntaxError, EOFError):
            pass  # the header lies further in (a TIFF's IFD at the end): read the whole file
        with Image.open(io.BytesIO(self._read_all(file))) as image:
            return image.size

    def decoded(self, source: SizedSource, needed: tuple[int, int]) -> Image.Image:
        """The source's pixels, decoded at the smallest JPEG scale that still gives ``needed``
        pixels for the whole image. Shared between requests: never modify it."""
        reduction = jpeg_reduction(source, needed)
        cache_key = (source.file.key, source.file.sha256, reduction)
        return self._decoded.get(cache_key, lambda: self._decode(source, needed, reduction))

    def _decode(self, source: SizedSource, needed: tuple[int, int],
                reduction: int) -> Image.Image:
        image = Image.open(io.BytesIO(self._read_all(source.file)))
        if reduction > 1:
            image.draft(image.mode, needed)
        image.load()
        return working_source(image)

    def _read_all(self, file: SourceFile) -> bytes:
        # Pillow needs a seekable file and decodes it whole anyway; the compressed bytes are
        # a fraction of the decoded pixels this process is about to hold.
        with self._store.open(file.key) as stream:
            return stream.read()


def working_source(image: Image.Image) -> Image.Image:
    """Bilevel, gray and colour stay as they are (a bilevel master stays compact); palette,
    CMYK, Lab and 16-bit images become what the renderer handles."""
    if image.mode in ("1", "L", "LA", "RGB", "RGBA"):
        return image
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if image.mode.startswith("I") or image.mode == "F":
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


class DecodedImages:
    """An LRU of decoded images bounded by their bytes in memory; one decode per key at a
    time, so that threads asking for the same page wait for the first decode."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._images: OrderedDict[Hashable, Image.Image] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, load: Callable[[], Image.Image]) -> Image.Image:
        with self._lock:
            image = self._take(key)
            if image is not None:
                return image
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                image = self._take(key)
            if image is None:
                image = load()
                self._put(key, image)
        with self._lock:
            self._loading.pop(key, None)
        return image

    def _take(self, key: Hashable) -> Image.Image | None:
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
        return image

    def _put(self, key: Hashable, image: Image.Image) -> None:
        size = image_bytes(image)
        if size > self.budget:
            return
        with self._lock:
            self._images[key] = image
            self.used += size
            while self.used > self.budget:
                _, evicted = self._images.popitem(last=False)
                self.used -= image_bytes(evicted)


def image_bytes(image: Image.Image) -> int:
    """Pillow's memory for the pixels: a byte per pixel for single-band 8-bit modes (``1``
    too), four bytes for everything else."""
    per_pixel = 1 if image.mode in ("1", "L", "P") else 4
    return image.width * image.height * per_pixel
