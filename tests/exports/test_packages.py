"""BagIt bags (validated by the bagit library and by our own importer) and DSpace SAF packages
(read back by our own SAF importer with the same metadata): services, web downloads, CLI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import bagit
import pytest
from sqlalchemy import select

from ingest.packages import validated_bag
from ingest.sources import plan_batch
from repository import collections
from repository.exports import FixityError, bag_for_item, saf_for_items
from repository.exports.saf import package_items
from repository.metadata_edit import statements_of
from repository.models import Item
from tests.api.library import PASSWORD
from viewer.commands.exports import export_cli


def item_named(session, handle: str) -> Item:
    return session.scalar(select(Item).where(Item.handle == handle))


def test_bag_of_an_item_is_valid_bagit_1_0(repo, tmp_path):
    handle = repo.handles[0]
    with repo.db.session() as session:
        path = bag_for_item(item_named(session, handle), repo.store, tmp_path / "bags",
                            organization="Thư viện tỉnh Hà Tĩnh")
    bag = bagit.Bag(str(path))
    bag.validate()  # every checksum, Payload-Oxum, completeness
    assert bag.version_info == (1, 0) and path.name == handle
    assert bag.info["External-Identifier"] == handle
    assert bag.info["Source-Organization"] == "Thư viện tỉnh Hà Tĩnh"
    assert sorted(bag.payload_files()) == [
        "data/pages/0001/master.png", "data/pages/0001/text.txt",
        "data/pages/0002/master.png", "data/pages/0002/text.txt"]
    assert "metadata/dublin_core.xml" in bag.tagfile_entries()
    assert "Truyện Kiều" in (path / "metadata" / "dublin_core.xml").read_text("utf-8")
    accepted, reason, _ = validated_bag(path)  # and our own importer takes it
    assert accepted is not None, reason


def test_a_damaged_object_stops_the_bag(repo, tmp_path):
    key = f"items/{repo.handles[1]}/pages/0002/master.png"
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(b"not the scanned page")
    repo.store.put(key, damaged, media_type="image/png")
    with repo.db.session() as session, pytest.raises(FixityError, match="checksum"):
        bag_for_item(item_named(session, repo.handles[1]), repo.store, tmp_path / "bags")
    assert not (tmp_path / "bags" / repo.handles[1]).exists()


def test_saf_package_is_read_back_by_our_importer(repo, tmp_path):
    target = tmp_path / "sach-saf.zip"
    with repo.db.session() as session:
        package = package_items(session, collections.get_collection(session, "sach"))
        saf_for_items(package, repo.store, target)
        expected = [sorted(statements_of(item), key=repr) for item in package]
        masters = [repo.store.open(f"items/{item.handle}/pages/0001/master.png").read()
                   for item in package]
    plan = plan_batch(target, work_dir=tmp_path / "work")
    assert plan.kind == "saf" and plan.problems == []
    assert [sorted(planned.metadata, key=repr) for planned in plan.items] == expected
    for planned, master in zip(plan.items, masters, strict=True):
        assert [path.name for path in planned.files] == ["0001.png", "0002.png"]
        assert planned.files[0].read_bytes() == master
    names = zipfile.ZipFile(target).namelist()
    assert names[:3] == ["item_000/dublin_core.xml", "item_000/contents", "item_000/0001.png"]


# -- web and command line -----------------------------------------------------------------------

def staff_client(client):
    client.post("/login", data={"username": "thuthu", "password": PASSWORD})
    return client


def test_staff_download_a_bag_as_a_zip(client, library, tmp_path):
    response = staff_client(client).get(f"/exports/items/{library.view_only}/bag.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    zipfile.ZipFile(io.BytesIO(response.data)).extractall(tmp_path / "unzipped")
    bag = bagit.Bag(str(tmp_path / "unzipped" / library.view_only))  # one folder: the handle
    bag.validate()
    assert "data/document.pdf" in bag.payload_files()
    assert "data/pages/0001/web.png" not in bag.payload_files()  # derivatives are left out


def test_staff_download_a_saf_package(client, library, tmp_path):
    response = staff_client(client).get("/exports/collections/xem/saf.zip")
    assert response.status_code == 200
    package = tmp_path / "xem.zip"
    package.write_bytes(response.data)
    plan = plan_batch(package, work_dir=tmp_path / "work")
    assert [item.metadata[0].value for item in plan.items] == ["Địa chí Hà Tĩnh"]


def test_export_commands(app, library, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(export_cli, ["bag", library.view_only, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    bagit.Bag(result.stdout.strip()).validate()
    again = runner.invoke(export_cli, ["bag", library.view_only, "--out", str(tmp_path)])
    assert again.exit_code == 1 and "exists already" in again.output
    target = tmp_path / "sach.zip"
    result = runner.invoke(export_cli, ["saf", "--collection", "sach", "--out", str(target)])
    assert result.exit_code == 0 and "4 items" in result.stdout
    assert Path(target).stat().st_size > 0
    missing = runner.invoke(export_cli, ["saf", "--collection", "khong", "--out", str(target)])
    assert missing.exit_code == 1
