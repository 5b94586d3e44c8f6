"""Sending stored objects: streamed in chunks, with ETag/Last-Modified, 304 and byte ranges."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from flask import Response, request
from werkzeug.http import parse_range_header

import storage

CHUNK = 256 * 1024


def send_object(store: storage.ObjectStore, key: str, *, media_type: str, sha256: str,
                modified: datetime | None = None, download_name: str | None = None,
                public: bool = False, max_age: int = 3600) -> Response:
    """Stream ``key`` honouring If-None-Match / If-Modified-Since and a single byte range."""
    info = store.stat(key)
    response = Response(mimetype=media_type, direct_passthrough=True)
    response.set_etag(sha256)
    response.last_modified = modified or info.modified
    response.cache_control.public = public
    response.cache_control.private = not public
    response.cache_control.max_age = max_age
    response.headers["Accept-Ranges"] = "bytes"
    if download_name:
        response.headers["Content-Disposition"] = content_disposition(download_name)
    response.make_conditional(request)
    if response.status_code == 304:
        return response
    byte_range = _requested_range(info.size, sha256)
    if byte_range == "unsatisfiable":
        response.status_code = 416
        response.headers["Content-Range"] = f"bytes */{info.size}"
        return response
    if byte_range is None:
        response.response = _chunks(store, key, None)
        response.content_length = info.size
        return response
    start, end = byte_range
    response.status_code = 206
    response.headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    response.content_length = end - start + 1
    response.response = _chunks(store, key, (start, end))
    return response


def _requested_range(size: int, etag: str) -> tuple[int, int] | str | None:
    header = request.headers.get("Range")
    if not header or request.method not in ("GET", "HEAD"):
        return None
    if_range = request.headers.get("If-Range")
    if if_range and if_range.strip().strip('"') != etag:
        return None  # the client's copy is another version: send the whole object
    parsed = parse_range_header(header)
    if parsed is None or len(parsed.ranges) != 1:
        return None
    bounds = parsed.range_for_length(size)
    if bounds is None:
        return "unsatisfiable"
    start, stop = bounds
    return start, stop - 1


def _chunks(store: storage.ObjectStore, key: str, byte_range) -> Iterator[bytes]:
    with store.open(key, byte_range=byte_range) as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback name and the exact UTF-8 name (Vietnamese survives)."""
    plain = unicodedata.normalize("NFKD", filename.replace("đ", "d").replace("Đ", "D"))
    fallback = plain.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "")
    fallback = fallback.strip() or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
