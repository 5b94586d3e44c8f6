"""The page image service: info.json documents and rendered images, through the render cache.

A request is planned first (resolved to pixels, its source chosen, its cache key computed)
without touching any pixel, so that the web layer can answer If-None-Match before anything is
read; rendering happens only on a cache miss, once per distinct request.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import BinaryIO

import storage
from repository.images.cache import RenderCache
from repository.images.info import info_document
from repository.images.pages import PageImage
from repository.images.params import ImageRequest, Limits, ResolvedRequest, parse_request, resolve
from repository.images.render import RENDER_VERSION, available_formats, render
from repository.images.sources import SizedSource, SourceReader, choose_source


@dataclass(frozen=True)
class RenderPlan:
    """A resolved request on one page, the source it is rendered from, and its cache key
    (a hash of every input, hence also a strong ETag)."""

    page: PageImage
    full: tuple[int, int]
    request: ResolvedRequest
    source: SizedSource
    key: str

    @property
    def media_type(self) -> str:
        return self.request.media_type


class ImageService:
    """Serves the page images of one object store, rendering each distinct request once."""

    def __init__(self, store: storage.ObjectStore, cache: RenderCache, *, limits: Limits,
                 tile_size: int, decoded_budget: int) -> None:
        self.cache = cache
        self.limits = limits
        self.tile_size = tile_size
        self.formats = available_formats()
        self._reader = SourceReader(store, decoded_budget)

    def parse(self, region: str, size: str, rotation: str, quality_format: str) -> ImageRequest:
        return parse_request(region, size, rotation, quality_format, self.formats)

    def info(self, page: PageImage, service_id: str) -> dict:
        width, height = self.full_size(page)
        return info_document(service_id, width, height, limits=self.limits,
                             tile_size=self.tile_size, formats=self.formats)

    def full_size(self, page: PageImage) -> tuple[int, int]:
        """The page's recorded size, else the master's as its header says."""
        if page.width > 0 and page.height > 0:
            return page.width, page.height
        return self._reader.size_of(page.master)

    def plan(self, page: PageImage, request: ImageRequest) -> RenderPlan:
        full = self.full_size(page)
        resolved = resolve(request, *full, self.limits)
        source = self._choose(page, full, resolved)
        return RenderPlan(page, full, resolved, source, render_key(page, source, resolved))

    def _choose(self, page: PageImage, full: tuple[int, int],
                resolved: ResolvedRequest) -> SizedSource:
        master = SizedSource(page.master, *full)
        if resolved.width >= resolved.box[2] or resolved.height >= resolved.box[3]:
            return master  # full resolution or more: only the master has the pixels
        sources = [master, *(self._reader.sized(file) for file in page.smaller)]
        return choose_source(sources, full, resolved.box, (resolved.width, resolved.height))

    def open_rendered(self, plan: RenderPlan) -> BinaryIO:
        """The rendered image open for reading: from the cache, or rendered into it now."""
        return self.cache.open(plan.key, f".{plan.request.format}",
                               lambda out: self._render(plan, out))

    def _render(self, plan: RenderPlan, out: BinaryIO) -> None:
        image = self._reader.decoded(plan.source, needed_size(plan))
        render(image, plan.full, plan.request, out, watermark=plan.page.watermark)


def needed_size(plan: RenderPlan) -> tuple[int, int]:
    """How large the whole source must be decoded for the region to give the output's pixels."""
    _, _, box_width, box_height = plan.request.box
    return (math.ceil(plan.request.width * plan.full[0] / box_width),
            math.ceil(plan.request.height * plan.full[1] / box_height))


def render_key(page: PageImage, source: SizedSource, request: ResolvedRequest) -> str:
    inputs = (RENDER_VERSION, page.uid, page.master.sha256, source.file.sha256,
              request.canonical, page.watermark or "")
    return hashlib.sha256("\n".join(inputs).encode()).hexdigest()
