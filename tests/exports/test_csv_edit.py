"""The collection CSV and its bulk edit: a round trip through a spreadsheet, the preview that
writes nothing, bad rows reported one by one, the audit trail, the web pages and the CLI."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from repository import collections, exports
from repository.errors import Conflict, InvalidInput
from repository.models import AuditEvent, Item
from tests.api.library import PASSWORD
from viewer.commands.exports import export_cli, import_cli


def export(repo) -> str:
    with repo.db.session() as session:
        found = collections.get_collection(session, "sach")
        return exports.collection_csv(exports.collection_items(session, found))


def table(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def write(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def preview(repo, text: str) -> exports.BulkEdit:
    with repo.db.session() as session:
        return exports.preview_bulk_edit(session, collections.get_collection(session, "sach"),
                                         text)


def apply(repo, text: str, **kwargs) -> exports.BulkEdit:
    with repo.db.session() as session:
        return exports.apply_bulk_edit(session, collections.get_collection(session, "sach"),
                                       text, **kwargs)


def described(repo, handle: str) -> list[tuple]:
    with repo.db.session() as session:
        item = session.scalar(select(Item).where(Item.handle == handle))
        return [(v.element, v.qualifier, v.language, v.value) for v in item.dc_values]


def test_export_is_a_spreadsheet_with_one_column_per_field(repo):
    text = export(repo)
    assert text.startswith("\ufeff") and "\r\n" in text
    header = next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header[:3] == ["handle", "dc.title[en]", "dc.title[vi]"]
    assert {"dc.creator", "dc.date.issued", "dc.subject", "dc.description"} <= set(header)
    rows = {row["handle"]: row for row in table(text)}
    assert rows[repo.handles[0]]["dc.subject"] == "Thơ||Văn học"
    assert rows[repo.handles[1]]["dc.date.issued"] == ""


def test_round_trip_of_a_bulk_edit(repo):
    rows = table(export(repo))
    kieu = next(row for row in rows if row["handle"] == repo.handles[0])
    kieu["dc.title[vi]"] = "Đoạn trường tân thanh"
    kieu["dc.subject"] += "||Truyện Nôm"
    edited = write(rows)

    changes = preview(repo, edited)
    assert changes.problems == [] and changes.rows == 2
    assert [(c.handle, c.field.column, c.old, c.new) for c in changes.changes] == [
        (repo.handles[0], "dc.title[vi]", ("Truyện Kiều",), ("Đoạn trường tân thanh",)),
        (repo.handles[0], "dc.subject", ("Thơ", "Văn học"), ("Thơ", "Văn học", "Truyện Nôm")),
    ]
    assert ("title", None, "vi", "Truyện Kiều") in described(repo, repo.handles[0])  # untouched

    applied = apply(repo, edited, expected_digest=changes.digest)
    assert applied.items == [repo.handles[0]]
    after = described(repo, repo.handles[0])
    assert ("title", None, "vi", "Đoạn trường tân thanh") in after
    assert [value for element, *_, value in after if element == "subject"] == [
        "Thơ", "Văn học", "Truyện Nôm"]
    assert ("title", None, "en", "The Tale of Kieu") in after
    with repo.db.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    item_event = next(e for e in events if e.action == "item.metadata")
    assert item_event.old == {"dc.title[vi]": ["Truyện Kiều"], "dc.subject": ["Thơ", "Văn học"]}
    assert item_event.new["dc.subject"] == ["Thơ", "Văn học", "Truyện Nôm"]
    assert events[-1].action == "collection.bulk_edit" and events[-1].new["changes"] == 2
    assert preview(repo, export(repo)).changes == []  # the new export matches the database


def test_deleted_columns_are_left_alone_and_empty_cells_remove(repo):
    text = f"handle;dc.subject\r\n{repo.handles[0]};\r\n"  # Excel in Vietnamese: semicolons
    edit = preview(repo, text)
    assert [(c.field.column, c.new) for c in edit.changes] == [("dc.subject", ())]
    apply(repo, text)
    after = described(repo, repo.handles[0])
    assert not [row for row in after if row[0] == "subject"]
    assert ("creator", None, None, "Nguyễn Du") in after


def test_bad_rows_and_columns_are_reported_and_skipped(repo):
    kieu, nam = repo.handles
    text = "\r\n".join([
        "handle,dc.title[vi],dc.author,dc.language,dc.subject,dc.subject",
        f"{kieu},Truyện Kiều,x,vi,Thơ,",
        "khongco,Không có,,,,",
        ",Không có mã,,,,",
        f"{kieu},Lặp lại,,,,",
        f'{nam},,,,,',
        f"{nam},Nam quốc sơn hà,,vi,Thơ,,thừa",
    ]) + "\r\n"
    edit = preview(repo, text)
    messages = [(problem.row, problem.message) for problem in edit.problems]
    assert (None, "The column dc.author is not a Dublin Core field (such as dc.title[vi] or "
                  "dc.date.issued); it was ignored.") in messages
    assert any(row is None and "appears twice" in message for row, message in messages)
    rows_with_problems = sorted(row for row, _ in messages if row)
    assert rows_with_problems == [3, 4, 5, 6, 7]
    assert next(m for r, m in messages if r == 6) == "An item needs a title"
    assert [(c.row, c.field.column) for c in edit.changes] == [(2, "dc.subject"),
                                                               (2, "dc.language")]
    assert ("title", None, "vi", "Nam quốc sơn hà") in described(repo, nam)


def test_invalid_values_are_reported_per_row(repo):
    edit = preview(repo, f"handle,dc.title[v i]\r\n{repo.handles[0]},x\r\n")
    assert [problem.row for problem in edit.problems] == [2]
    assert "language tag" in edit.problems[0].message and edit.changes == []


def test_a_file_without_handles_changes_nothing(repo):
    edit = preview(repo, "dc.title\r\nTruyện Kiều\r\n")
    assert edit.changes == [] and "no handle column" in edit.problems[0].message


def test_a_stale_preview_is_refused(repo):
    text = f"handle,dc.subject\r\n{repo.handles[1]},Thơ\r\n"
    seen = preview(repo, text)
    apply(repo, f"handle,dc.subject\r\n{repo.handles[1]},Sử\r\n")
    with pytest.raises(Conflict):
        apply(repo, text, expected_digest=seen.digest)


@pytest.mark.parametrize(("data", "words"), [
    ("handle\r\n".encode("utf-16"), "UTF-16"),
    ("handle,dc.title\r\nx,Hà Nam\r\n".encode("cp1258"), "line 2"),
])
def test_files_in_other_encodings_are_refused_with_advice(data, words):
    with pytest.raises(InvalidInput, match=words):
        exports.read_csv_bytes(data)
    assert exports.read_csv_bytes(b"\xef\xbb\xbfhandle") == "handle"


# -- web and command line -----------------------------------------------------------------------

def sign_in(client, username="thuthu"):
    client.post("/login", data={"username": username, "password": PASSWORD})


def test_staff_download_edit_preview_and_confirm_on_the_web(client, library):
    sign_in(client)
    assert client.get("/exports/collections/sach").status_code == 200
    download = client.get("/exports/collections/sach/metadata.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = table(download.data.decode("utf-8"))
    row = next(row for row in rows if row["handle"] == library.open_items[0])
    row["dc.title[vi]"] = "Kim Vân Kiều"
    upload = {"file": (io.BytesIO(write(rows).encode("utf-8")), "sach.csv")}
    page = client.post("/exports/collections/sach/bulk-edit", data=upload,
                       content_type="multipart/form-data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kim Vân Kiều" in text and "<del>Truyện Kiều</del>" in text
    assert client.get(f"/api/v1/items/{library.open_items[0]}").json["title"] == "Truyện Kiều"
    form = {"csv_text": write(rows), "digest": _hidden(text, "digest")}
    done = client.post("/exports/collections/sach/bulk-edit/apply", data=form)
    assert done.status_code == 302
    assert client.get(f"/api/v1/items/{library.open_items[0]}").json["title"] == "Kim Vân Kiều"


def _hidden(page: str, name: str) -> str:
    start = page.index(f'name="{name}"')
    value = page.index('value="', start) + len('value="')
    return page[value:page.index('"', value)]


def test_exports_pages_are_for_staff(client, library):
    assert client.get("/exports/collections/sach").status_code == 302  # to sign in
    sign_in(client, "docgia")
    for path in ("/exports/collections/sach", "/exports/collections/sach/metadata.csv",
                 "/exports/collections/sach/saf.zip", f"/exports/items/{library.hidden}/bag.zip"):
        assert client.get(path).status_code == 403, path


def test_command_line_preview_then_apply(app, library, tmp_path):
    runner = app.test_cli_runner()
    exported = runner.invoke(export_cli, ["csv", "--collection", "sach"])
    assert exported.exit_code == 0 and exported.stdout.startswith("\ufeffhandle")
    rows = table(exported.stdout)
    next(row for row in rows if row["handle"] == library.open_items[1])["dc.subject"] = "Truyện"
    edited = tmp_path / "sach.csv"
    edited.write_text(write(rows), encoding="utf-8")
    shown = runner.invoke(import_cli, ["csv", "--collection", "sach", str(edited)])
    assert shown.exit_code == 0 and "dc.subject\tThơ\t→\tTruyện" in shown.stdout
    assert "preview" in shown.stderr
    client = app.test_client()
    assert client.get(f"/api/v1/items/{library.open_items[1]}").json["metadata"][-1][
        "value"] != "Truyện"
    applied = runner.invoke(import_cli, ["csv", "--collection", "sach", str(edited), "--apply"])
    assert applied.exit_code == 0 and "1 items changed" in applied.stderr
    subjects = [m["value"] for m in client.get(f"/api/v1/items/{library.open_items[1]}")
                .json["metadata"] if m["element"] == "subject"]
    assert subjects == ["Truyện"]
