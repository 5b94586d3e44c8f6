"""Safe ZIP unpacking: traversal, links and bombs refused; odd names read; bad entries skipped."""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from ingest.archives import entry_name, is_zip, safe_relative, unpack_zip
from ingest.plan import MB, UnpackLimits, nfc
from tests.ingest.batches import PNG, make_zip, replace_bytes, set_flags


def unpack(archive: Path, tmp_path: Path, **limits):
    target = tmp_path / "out"
    ok, problems = unpack_zip(archive, target, UnpackLimits(**limits))
    return ok, target, [problem.code for problem in problems], problems


def test_a_plain_zip_unpacks_with_its_folders(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"book/p1.png": PNG, "book/sub/p2.png": PNG,
                                            "empty/": b""})
    ok, target, codes, _ = unpack(archive, tmp_path)
    assert ok and codes == []
    assert (target / "book/p1.png").read_bytes() == PNG
    assert (target / "book/sub/p2.png").is_file() and (target / "empty").is_dir()


@pytest.mark.parametrize("name", [
    "../evil.png", "book/../../evil.png", "/etc/evil.png", "C:/evil.png", "C:\\evil.png",
    "..\\evil.png", "book\\..\\..\\evil.png",
])
def test_traversal_refuses_the_whole_zip(tmp_path, name):
    archive = make_zip(tmp_path / "a.zip", {"good.png": PNG, name: PNG})
    ok, target, codes, problems = unpack(archive, tmp_path)
    assert not ok and codes == ["zip-traversal"]
    assert not target.exists() and not (tmp_path / "evil.png").exists()
    assert "evil.png" in problems[0].message


def test_symlink_entries_are_refused(tmp_path):
    link = zipfile.ZipInfo("link.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr(link, "/etc/passwd")
    ok, target, codes, _ = unpack(archive, tmp_path)
    assert not ok and codes == ["zip-traversal"] and not target.exists()


def write_zeros(archive: Path, name: str, size: int) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zip_file, \
            zip_file.open(name, "w") as entry:
        block = bytes(MB)
        for _ in range(size // MB):
            entry.write(block)
    return archive


def test_a_highly_compressible_entry_is_a_zip_bomb(tmp_path):
    archive = write_zeros(tmp_path / "bomb.zip", "bomb.tif", 16 * MB)
    assert archive.stat().st_size < 100_000
    ok, target, codes, problems = unpack(archive, tmp_path)
    assert not ok and codes == ["zip-bomb"] and not target.exists()
    assert problems[0].params["ratio"] > 200


def test_small_blank_files_are_not_bombs(tmp_path):
    archive = make_zip(tmp_path / "blank.zip", {"blank.tif": bytes(512 * 1024)})
    ok, _, codes, _ = unpack(archive, tmp_path)
    assert ok and codes == []


def test_total_size_and_entry_count_limits(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {f"p{i}.png": bytes(600) for i in range(5)})
    assert unpack(archive, tmp_path, max_total_bytes=2000)[2] == ["zip-too-large"]
    assert unpack(archive, tmp_path, max_entries=3)[2] == ["zip-too-large"]
    assert unpack(archive, tmp_path, max_entries=5, max_total_bytes=3000)[0]


def test_an_entry_that_lies_about_its_size_never_writes_more(tmp_path):
    archive = make_zip(tmp_path / "liar.zip", {"p.png": bytes(4096)}, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    struct.pack_into("<I", data, 22, 10)  # local header: uncompressed size
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)
    archive.write_bytes(bytes(data))
    ok, target, codes, _ = unpack(archive, tmp_path)
    assert codes in (["zip-damaged"], ["zip-bomb"])
    assert not (target / "p.png").exists() or (target / "p.png").stat().st_size <= 10


def test_encrypted_entries_are_skipped_and_the_rest_unpacks(tmp_path):
    archive = set_flags(make_zip(tmp_path / "a.zip", {"secret.png": PNG}), 0x1)
    ok, target, codes, problems = unpack(archive, tmp_path)
    assert ok and codes == ["zip-encrypted"] and not (target / "secret.png").exists()
    assert "secret.png" in problems[0].message


def test_unboundable_compression_methods_are_skipped(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr("bz.png", PNG, compress_type=zipfile.ZIP_BZIP2)
        zip_file.writestr("ok.png", PNG, compress_type=zipfile.ZIP_DEFLATED)
    ok, target, codes, _ = unpack(archive, tmp_path)
    assert ok and codes == ["zip-method"] and (target / "ok.png").is_file()


def test_a_damaged_entry_is_skipped(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"bad.png": PNG * 4, "good.png": PNG},
                       zipfile.ZIP_STORED)
    data = archive.read_bytes()
    archive.write_bytes(data.replace(PNG * 4, PNG * 3 + b"X" * len(PNG), 1))
    ok, target, codes, _ = unpack(archive, tmp_path)
    assert ok and codes == ["zip-damaged"]
    assert not (target / "bad.png").exists() and (target / "good.png").is_file()


def test_a_file_clashing_with_a_folder_keeps_the_first(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"book": PNG, "book/p1.png": PNG})
    ok, target, codes, _ = unpack(archive, tmp_path)
    assert ok and codes == ["zip-duplicate"] and (target / "book").is_file()


def test_not_a_zip_and_a_broken_zip(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04" + bytes(100))
    assert is_zip(broken)
    assert unpack(broken, tmp_path)[2] == ["zip-corrupt"]
    png = tmp_path / "p.png"
    png.write_bytes(PNG)
    assert not is_zip(png)


def test_refuses_to_unpack_into_a_folder_in_use(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"p.png": PNG})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        unpack_zip(archive, tmp_path / "out", UnpackLimits())
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


# --- names -------------------------------------------------------------------------------------

def test_utf8_flagged_vietnamese_names(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"Tập 1/trang bìa.png": PNG})
    ok, target, _, _ = unpack(archive, tmp_path)
    assert (target / "Tập 1" / "trang bìa.png").is_file()


def test_utf8_names_without_the_flag(tmp_path):
    name = "Hà Nội.png".encode()
    archive = make_zip(tmp_path / "a.zip", {"x" * len(name): PNG})
    replace_bytes(archive, b"x" * len(name), name)
    ok, target, _, _ = unpack(archive, tmp_path)
    assert (target / "Hà Nội.png").is_file()


def test_cp437_names_by_default(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"CafX.png": PNG})
    replace_bytes(archive, b"CafX.png", "Café.png".encode("cp437"))
    ok, target, _, _ = unpack(archive, tmp_path)
    assert (target / "Café.png").is_file()


def test_vietnamese_windows_names_with_cp1258(tmp_path):
    raw = b"H\xe0 N\xf4\xf2i.png"  # "Hà Nội" as Windows-1258 writes it: ô + combining dot
    archive = make_zip(tmp_path / "a.zip", {"x" * len(raw): PNG})
    replace_bytes(archive, b"x" * len(raw), raw)
    ok, target, _, _ = unpack(archive, tmp_path, legacy_name_encoding="cp1258")
    assert [nfc(path.name) for path in target.iterdir()] == ["Hà Nội.png"]


def test_info_zip_unicode_path_field_wins(tmp_path):
    real = "Tập 2.png".encode()
    info = zipfile.ZipInfo("T?p 2.png")
    info.extra = struct.pack("<HHBI", 0x7075, 5 + len(real), 1,
                             zlib.crc32(b"T?p 2.png")) + real
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr(info, PNG)
    with zipfile.ZipFile(archive) as zip_file:
        assert entry_name(zip_file.infolist()[0]) == "Tập 2.png"


@pytest.mark.parametrize(("name", "safe"), [
    ("a/b.png", True), ("./a.png", True), ("a..b.png", True), ("..", False), ("a/../b", False),
    ("/a", False), ("c:a", False), ("D:/a", False), ("", False), ("a\x00b", False),
])
def test_safe_relative(name, safe):
    assert safe_relative(name) is safe
