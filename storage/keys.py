"""The one set of key rules that every backend enforces, so a key valid here is valid everywhere."""

from __future__ import annotations

from storage.errors import InvalidKey

MAX_KEY_BYTES = 1024        # S3's limit on object names
MAX_SEGMENT_BYTES = 255     # a file name's limit on common filesystems (NAME_MAX)
RESERVED_PREFIX = ".khoso-tmp-"   # the local backend's temporary files are named so


def validate_key(key: str) -> str:
    """Return ``key`` if it is a valid object key, else raise InvalidKey saying why.

    Keys are opaque, case-sensitive text (Vietnamese is fine; no normalization happens): at most
    1024 bytes in UTF-8, relative, ``/``-separated segments of at most 255 bytes each; no empty,
    ``.`` or ``..`` segment, no backslash, no NUL or other control character, and no segment
    starting with ``.khoso-tmp-`` (reserved for temporary files).
    """
    problem = _key_problem(key)
    if problem:
        raise InvalidKey(key, problem)
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can begin valid keys (``""`` matches every key), else InvalidKey."""
    problem = _prefix_problem(prefix)
    if problem:
        raise InvalidKey(prefix, problem)
    return prefix


def is_valid_key(key: str) -> bool:
    return _key_problem(key) is None


def _key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return "a key must be text"
    if not key:
        return "a key must not be empty"
    problem = _character_problem(key)
    if problem:
        return problem
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return f"a key must be at most {MAX_KEY_BYTES} bytes in UTF-8"
    if key.startswith("/"):
        return "a key must be relative (no leading '/')"
    return next(filter(None, map(_segment_problem, key.split("/"))), None)


def _prefix_problem(prefix: object) -> str | None:
    if not isinstance(prefix, str):
        return "a prefix must be text"
    if prefix.startswith("/"):
        return "a prefix must be relative (no leading '/')"
    folder, _, partial = prefix.rpartition("/")
    return (_key_problem(folder) if folder else None) or _character_problem(partial)


def _character_problem(text: str) -> str | None:
    if "\\" in text:
        return "a key must not contain a backslash; use '/' between segments"
    if any(_is_control(char) for char in text):
        return "a key must not contain NUL or other control characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a key must be valid Unicode text (it contains a lone surrogate)"
    return None


def _segment_problem(segment: str) -> str | None:
    if not segment:
        return "a key must not have empty segments ('//', or '/' at the end)"
    if segment in (".", ".."):
        return f"a key must not have {segment!r} segments"
    if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
        return f"each '/'-separated segment must be at most {MAX_SEGMENT_BYTES} bytes in UTF-8"
    if segment.startswith(RESERVED_PREFIX):
        return f"segments starting with {RESERVED_PREFIX!r} are reserved"
    return None


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F
