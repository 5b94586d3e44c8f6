"""DSpace SAF packages and BagIt bags, on DSpace's own fixtures and the LoC conformance suite."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import bagit
import pytest

from ingest.packages import bag_info_metadata, read_dublin_core, read_saf_item
from ingest.plan import UnpackLimits
from ingest.sources import plan_batch
from repository.dublin_core import Statement
from tests.ingest.batches import (
    BAGIT,
    CONFORMANCE,
    PNG,
    SAF_FIXTURES,
    page,
    writable_copy,
    zip_folder,
)

TALE = [Statement("title", "A Tale of Two Cities"), Statement("date", "1990", "issued"),
        Statement("title", "J'aime les Printemps", "alternative", "fr")]


def names(files: list[Path]) -> list[str]:
    return [path.name for path in files]


def saf_item(folder: Path, contents: str, *files: str) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(SAF_FIXTURES / "dublin_core.xml", folder / "dublin_core.xml")
    shutil.copyfile(SAF_FIXTURES / "metadata_dcterms.xml", folder / "metadata_dcterms.xml")
    (folder / "contents").write_text(contents, encoding="utf-8")
    for name in files:
        shutil.copyfile(SAF_FIXTURES / "test.pdf", folder / name)
    return folder


# --- SAF ---------------------------------------------------------------------------------------

def test_loose_dublin_core_keeps_its_french_value():
    values = read_dublin_core(SAF_FIXTURES / "dublin_core.xml")
    assert values[2] == ("dc", {"element": "title", "qualifier": "alternative",
                                "language": "fr"}, "J'aime les Printemps")
    schema, attributes, text = read_dublin_core(SAF_FIXTURES / "metadata_dcterms.xml")[0]
    assert (schema, attributes["element"], text) == ("dcterms", "title", "A Tale of Two Cities")


def test_saf_bitstreams_zip(tmp_path):
    plan = plan_batch(SAF_FIXTURES / "saf-bitstreams.zip", work_dir=tmp_path)
    assert plan.kind == "saf" and plan.problems == []
    (item,) = plan.items
    assert item.metadata == TALE  # the dcterms title repeats dc.title: kept once
    assert [path.name for path in item.files] == ["file1.txt"]
    assert item.source == "saf-bitstreams.zip/saf/item_000" and item.original_name == "item_000"
    assert item.files[0].is_relative_to(tmp_path)


def test_saf_registered_bitstreams_without_the_file(tmp_path):
    plan = plan_batch(SAF_FIXTURES / "saf-registered-bitstreams.zip", work_dir=tmp_path)
    assert plan.items == [] and plan.codes() == ["saf-missing-file"]
    assert plan.problems[0].params["file"] == "file1.txt"


def test_saf_relationships_has_no_contents(tmp_path):
    plan = plan_batch(SAF_FIXTURES / "saf-relationships.zip", work_dir=tmp_path)
    assert plan.items == [] and plan.codes() == ["saf-missing-contents"]


def test_saf_folder_with_contents_options_and_bundles(tmp_path):
    contents = ("test.pdf\tbundle:ORIGINAL\tdescription:Bản quét\tprimary:true\n"
                "test.pdf.jpg\tbundle:THUMBNAIL\n"
                "license.txt\tbundle:LICENSE\n"
                "phụ lục.pdf\tpermissions:-r 'Anonymous'\n")
    saf_item(tmp_path / "saf" / "item_2", contents, "test.pdf", "phụ lục.pdf")
    (tmp_path / "saf" / "item_2" / "metadata_local.xml").write_text(
        '<dublin_core schema="local"><dcvalue element="genre">x</dcvalue></dublin_core>')
    saf_item(tmp_path / "saf" / "item_10", "test.pdf\n", "test.pdf")
    saf_item(tmp_path / "saf" / "item_1", "missing.pdf\n")
    (tmp_path / "saf" / "stray").mkdir()
    plan = plan_batch(tmp_path / "saf", work_dir=tmp_path / "work")
    assert plan.kind == "saf"
    assert [item.original_name for item in plan.items] == ["item_2", "item_10"]
    assert [path.name for path in plan.items[0].files] == ["test.pdf", "phụ lục.pdf"]
    assert plan.items[0].metadata == TALE
    assert plan.codes() == ["saf-not-an-item", "saf-missing-file", "saf-unknown-field"]


@pytest.mark.parametrize(("line", "code"), [
    ("-r -s 0 -f scans/p1.tif\tbundle:ORIGINAL", "saf-registered"),
    ("../../etc/passwd", "unsafe-path"),
])
def test_saf_contents_lines_refused(tmp_path, line, code):
    item = read_saf_item(saf_item(tmp_path / "item", line + "\n"), "item", UnpackLimits())
    assert [problem.code for problem in item.problems] == [code]


def test_saf_xml_with_a_dtd_is_refused(tmp_path):
    folder = saf_item(tmp_path / "item", "test.pdf\n", "test.pdf")
    (folder / "dublin_core.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]>'
        '<dublin_core><dcvalue element="title">&a;</dcvalue></dublin_core>')
    item = read_saf_item(folder, "item", UnpackLimits())
    assert [problem.code for problem in item.problems] == ["saf-bad-xml"]
    assert "DTD" in item.problems[0].message


def test_saf_other_schemas_languages_and_bad_values(tmp_path):
    folder = saf_item(tmp_path / "item", "test.pdf\n", "test.pdf")
    (folder / "metadata_local.xml").write_text(
        '<dublin_core schema="local"><dcvalue element="genre">a</dcvalue>'
        '<dcvalue element="genre">b</dcvalue></dublin_core>', encoding="utf-8")
    (folder / "metadata_dcterms.xml").write_text(
        '<dublin_core schema="dcterms"><dcvalue element="issued" language="vi_VN">1990'
        '</dcvalue><dcvalue element="abstract" language="*">Tóm tắt</dcvalue></dublin_core>',
        encoding="utf-8")
    item = read_saf_item(folder, "item", UnpackLimits())
    assert item.problems == [] and [note.code for note in item.notes] == ["saf-unknown-field"]
    assert item.metadata[3:] == [Statement("date", "1990", "issued", "vi-vn"),
                                 Statement("description", "Tóm tắt", "abstract")]
    (folder / "dublin_core.xml").write_text(
        '<dublin_core><dcvalue element="title" language="not a tag">x</dcvalue></dublin_core>')
    item = read_saf_item(folder, "item", UnpackLimits())
    assert "saf-invalid-value" in [problem.code for problem in item.problems]


# --- BagIt: the Library of Congress conformance suite ------------------------------------------

def suite(*categories: str) -> list[Path]:
    return sorted(path for category in categories
                  for path in CONFORMANCE.glob(f"v*/{category}/*") if path.is_dir())


# The shared copy lost a dotfile that the upstream bag holds (its Payload-Oxum counts 2 files):
# put it back, empty as its checksum says, so that the bag is the suite's bag again.
RESTORE = {"special-system-files": ("data/.DS_Store", b"")}


@pytest.mark.parametrize("bag", suite("valid", "warning"), ids=lambda path: path.name)
def test_conformance_valid_and_warning_bags_are_accepted(bag, tmp_path):
    if bag.name in RESTORE:
        name, data = RESTORE[bag.name]
        bag = writable_copy(bag, tmp_path / bag.name)
        (bag / name).write_bytes(data)
    plan = plan_batch(bag, work_dir=tmp_path)
    assert plan.kind == "bag" and "bag-invalid" not in plan.codes(), plan.problems


@pytest.mark.parametrize("bag", suite("invalid", "linux-only"), ids=lambda path: path.name)
def test_conformance_invalid_bags_are_refused_with_a_reason(bag, tmp_path):
    plan = plan_batch(bag, work_dir=tmp_path)
    assert plan.kind == "bag" and plan.items == [] and plan.codes() == ["bag-invalid"]
    reason = plan.problems[0].params["reason"]
    assert len(reason) > 10 and str(CONFORMANCE) not in reason


def test_the_suite_is_all_there():
    assert (len(suite("valid")), len(suite("warning")), len(suite("invalid", "linux-only"))) \
        == (13, 6, 21)


def test_a_bag_listing_a_file_in_two_unicode_forms(tmp_path):
    bag = CONFORMANCE / "v0.97/warning/same-filename-listed-twice-with-different-normalization"
    listed = (bag / "manifest-sha512.txt").read_text(encoding="utf-8")
    assert unicodedata.normalize("NFD", "Núñez") in listed and "Núñez" in listed
    assert "bag-invalid" not in plan_batch(bag, work_dir=tmp_path).codes()


def test_a_bag_listing_a_file_twice_in_two_cases_is_a_warning(tmp_path):
    plan = plan_batch(CONFORMANCE / "v0.97/warning/duplicate-file-with-different-case",
                      work_dir=tmp_path)
    assert "bag-respelled" in plan.codes() and plan.problems[0].params["file"] == "data/HELLO.txt"


def test_a_bag_made_on_a_mac_keeps_its_decomposed_names_valid(tmp_path):
    folder = tmp_path / "mac"
    page(folder / unicodedata.normalize("NFD", "Tập 1.png"))
    bagit.make_bag(str(folder), checksums=["sha256"])
    (folder / "data" / unicodedata.normalize("NFD", "Tập 1.png")).rename(
        folder / "data" / "Tập 1.png")  # copied to Linux through a tool that composes names
    assert not bagit.Bag(str(folder)).is_valid()  # bagit-python alone trips over it
    plan = plan_batch(folder, work_dir=tmp_path / "work")
    assert plan.problems == [] and names(plan.items[0].files) == ["Tập 1.png"]


# --- BagIt: bags made with bagit-python from its own test images --------------------------------

@pytest.fixture
def photo_bag(tmp_path) -> Path:
    folder = tmp_path / "photos"
    for source in sorted((BAGIT / "bagit-python-test-data").glob("*/*.jpg")):
        shutil.copyfile(source, _target(folder, source))
    bagit.make_bag(str(folder), {
        "External-Identifier": "smithsonian-loc-01",
        "External-Description": "Public domain photographs\n   from Flickr Commons",
        "Source-Organization": "Thư viện tỉnh Nghệ An",
        "Title": "Ảnh Flickr Commons",
        "Contact-Name": "Thủ thư"}, checksums=["sha256"])
    return folder


def _target(folder: Path, source: Path) -> Path:
    target = folder / source.parent.name / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def test_a_bag_of_photographs_is_one_item_with_suggested_metadata(photo_bag, tmp_path):
    plan = plan_batch(photo_bag, work_dir=tmp_path / "work")
    assert plan.kind == "bag" and plan.problems == []
    (item,) = plan.items
    assert item.original_name == "smithsonian-loc-01"
    assert [path.relative_to(photo_bag).as_posix() for path in item.files] == [
        "data/loc/2478433644_2839c5e8b8_o_d.jpg", "data/loc/3314493806_6f1db86d66_o_d.jpg",
        "data/si/2584174182_ffd5c24905_b_d.jpg", "data/si/4011399822_65987a4806_b_d.jpg"]
    (bagged,) = [value for value in item.metadata if value.element == "date"]
    assert bagged.qualifier == "submitted"  # Bagging-Date, today
    assert set(item.metadata) - {bagged} == {  # in bag-info.txt's order, which bagit sorts
        Statement("identifier", "smithsonian-loc-01"),
        Statement("description", "Public domain photographs from Flickr Commons"),
        Statement("contributor", "Thư viện tỉnh Nghệ An"),
        Statement("title", "Ảnh Flickr Commons")}


def test_a_tampered_bag_is_refused_naming_the_file(photo_bag, tmp_path):
    victim = photo_bag / "data/si/2584174182_ffd5c24905_b_d.jpg"
    victim.write_bytes(victim.read_bytes()[:-1] + b"!")
    plan = plan_batch(photo_bag, work_dir=tmp_path / "work")
    assert plan.codes() == ["bag-invalid"] and "2584174182" in plan.problems[0].message


def test_a_zipped_bag_in_a_wrapper_folder(photo_bag, tmp_path):
    archive = zip_folder(photo_bag, tmp_path / "photos.zip", prefix="photos/")
    plan = plan_batch(archive, work_dir=tmp_path / "work")
    assert plan.kind == "bag" and len(plan.items[0].files) == 4
    assert plan.items[0].source == "photos.zip/photos"


def test_bag_info_values_that_fail_validation_are_noted():
    metadata, problems = bag_info_metadata({"Title": ["Good", "x" * 100_001],
                                            "Payload-Oxum": "1.1"}, "bag")
    assert metadata == [Statement("title", "Good")]
    assert [problem.code for problem in problems] == ["bag-invalid-value"]


def test_a_bag_whose_payload_is_not_pages(tmp_path):
    folder = tmp_path / "notes"
    page(folder / "readme.txt", b"hello")
    page(folder / "p1.png", PNG)
    bagit.make_bag(str(folder), checksums=["sha256"])
    plan = plan_batch(folder, work_dir=tmp_path / "work")
    assert plan.codes() == ["not-a-page"] and len(plan.items[0].files) == 1
