"""Page images for the IIIF Image API 3.0: parsing requests, rendering with Pillow, caching.

No Flask here, so that ingest can pre-render with the very code and cache keys the viewer uses.
"""
