"""The key rules shared by every backend."""

from __future__ import annotations

import pytest

from storage import InvalidKey
from storage.keys import validate_key, validate_prefix

VALID = [
    "a",
    "books/0001/page-001.tif",
    "Sách cổ/Trang 1.tif",
    "Truyện Kiều/Nguyễn Du (1820).pdf",
    ".hidden/..dots.../x.",
    "a b/c~d/e+f=g&h?i#j%20k",
    "x" * 255 + "/" + "y" * 255 + "/" + "z" * 255 + "/" + "w" * 255,  # 1023 bytes
    "ế" * 85,  # 255 bytes in UTF-8
]

INVALID = {
    "": "empty",
    "/abs": "relative",
    "../x": "'..' segments",
    "a/../../b": "'..' segments",
    "./a": "'.' segments",
    "a//b": "empty segments",
    "a/": "empty segments",
    "a\\b": "backslash",
    "a\x00b": "control",
    "a\nb": "control",
    "a\x7fb": "control",
    "a\x85b": "control",
    "a\udc80b": "surrogate",
    "x" * 1025: "1024 bytes",
    "ế" * 86: "255 bytes",
    "a/.khoso-tmp-x1y2": "reserved",
}


@pytest.mark.parametrize("key", VALID)
def test_valid_keys_pass_unchanged(key):
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "reason"), INVALID.items(), ids=repr)
def test_invalid_keys_say_why(key, reason):
    with pytest.raises(InvalidKey, match=reason) as caught:
        validate_key(key)
    assert caught.value.key == key


def test_keys_are_not_normalized():
    composed, decomposed = "Sách", "Sa\u0301ch"
    assert validate_key(composed) != validate_key(decomposed)


def test_a_key_must_be_text():
    with pytest.raises(InvalidKey, match="text"):
        validate_key(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/b", "Sách cổ/", "a/.", "a/.."])
def test_valid_prefixes(prefix):
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "/a", "../", "a//", "a/../b/", "a\\", "a\x00"])
def test_invalid_prefixes(prefix):
    with pytest.raises(InvalidKey):
        validate_prefix(prefix)
