"""``khoso export`` (bags, SAF packages, metadata CSV) and ``khoso import csv`` (bulk edit)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from repository import collections, exports
from repository.access import Identity
from repository.errors import RepositoryError
from repository.exports.saf import package_items
from repository.items import find_item
from repository.models import Role
from viewer.commands.tokens import token_cli
from viewer.extensions import parts

export_cli = AppGroup("export", help="Export items: BagIt bags, DSpace SAF, metadata CSV.")
import_cli = AppGroup("import", help="Import a collection's edited metadata CSV.")

# The command line acts for the library itself (audited as "system"), as `khoso user` does.
SYSTEM = Identity(role=Role.ADMIN)


def _fail(exc: RepositoryError) -> click.ClickException:
    return click.ClickException(str(exc))


@export_cli.command("bag")
@click.argument("handle")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write the bag in (as OUT/HANDLE).")
def export_bag(handle: str, out_dir: Path) -> None:
    """Write the BagIt bag of the item HANDLE."""
    try:
        with parts().db.session() as session:
            item = find_item(session, handle, SYSTEM, parts().policy)
            bag = exports.bag_for_item(item, parts().store, out_dir,
                                       organization=current_app.config["LIBRARY_NAME"])
    except RepositoryError as exc:
        raise _fail(exc) from exc
    except FileExistsError as exc:
        raise click.ClickException(f"{exc.filename} exists already") from exc
    click.echo(str(bag))


@export_cli.command("saf")
@click.option("--collection", "slug", required=True, help="Short name of the collection.")
@click.option("--out", "target", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The ZIP file to write.")
def export_saf(slug: str, target: Path) -> None:
    """Write every item of a collection as a DSpace Simple Archive Format ZIP."""
    try:
        with parts().db.session() as session:
            found = collections.get_collection(session, slug)
            package = package_items(session, found)
            exports.saf_for_items(package, parts().store, target)
    except RepositoryError as exc:
        raise _fail(exc) from exc
    click.echo(f"{target}: {len(package)} items")


@export_cli.command("csv")
@click.option("--collection", "slug", required=True, help="Short name of the collection.")
@click.option("--out", "target", type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file to write (default: standard output).")
def export_csv(slug: str, target: Path | None) -> None:
    """Print a collection's metadata as CSV (UTF-8 with BOM) for a spreadsheet."""
    try:
        with parts().db.session() as session:
            found = collections.get_collection(session, slug)
            text = exports.collection_csv(exports.collection_items(session, found))
    except RepositoryError as exc:
        raise _fail(exc) from exc
    if target is None:
        sys.stdout.buffer.write(text.encode("utf-8"))
    else:
        target.write_text(text, encoding="utf-8", newline="")


@import_cli.command("csv")
@click.option("--collection", "slug", required=True, help="Short name of the collection.")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "apply_changes", is_flag=True,
              help="Save the changes (without it, only show them).")
def import_csv(slug: str, source: Path, apply_changes: bool) -> None:
    """Show (or with --apply, save) the changes an edited metadata CSV makes."""
    try:
        text = exports.read_csv_bytes(source.read_bytes())
        with parts().db.session() as session:
            found = collections.get_collection(session, slug)
            edit = (exports.apply_bulk_edit(session, found, text) if apply_changes
                    else exports.preview_bulk_edit(session, found, text))
    except RepositoryError as exc:
        raise _fail(exc) from exc
    _report(edit, apply_changes)


def _report(edit: exports.BulkEdit, applied: bool) -> None:
    for change in edit.changes:
        click.echo(f"{change.handle}\t{change.field.column}\t{' || '.join(change.old) or '-'}"
                   f"\t→\t{' || '.join(change.new) or '-'}")
    for problem in edit.problems:
        where = f"row {problem.row}: " if problem.row else ""
        click.echo(f"{where}{problem.message}", err=True)
    verb = "changed" if applied else "would change (preview; add --apply to save)"
    click.echo(f"{edit.rows} rows, {len(edit.items)} items {verb}, "
               f"{len(edit.problems)} problems", err=True)


commands = [export_cli, import_cli, token_cli]
