"""Exports of the repository: Dublin Core XML per item, a collection's metadata as an editable
CSV (and its bulk edit back), BagIt bags for preservation, DSpace Simple Archive Format."""

from repository.exports.bags import FixityError, bag_for_item
from repository.exports.csv_edit import (
    BulkEdit,
    Change,
    Problem,
    apply_bulk_edit,
    collection_csv,
    collection_items,
    preview_bulk_edit,
    read_csv_bytes,
)
from repository.exports.dublin_core import dublin_core_xml, saf_dublin_core_xml
from repository.exports.saf import saf_chunks, saf_for_items

__all__ = [
    "BulkEdit", "Change", "FixityError", "Problem", "apply_bulk_edit", "bag_for_item",
    "collection_csv", "collection_items", "dublin_core_xml", "preview_bulk_edit",
    "read_csv_bytes", "saf_chunks", "saf_dublin_core_xml", "saf_for_items",
]
