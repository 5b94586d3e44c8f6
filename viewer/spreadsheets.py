"""Tables as downloads: CSV (UTF-8 with a byte-order mark, so that Excel shows Vietnamese)
and XLSX (XlsxWriter, rows streamed to a temporary file rather than held in memory)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

import xlsxwriter
from flask import Response, stream_with_context

CSV_CHUNK = 500
Row = Sequence[object]


def csv_response(filename: str, header: Row, rows: Iterable[Row]) -> Response:
    return Response(stream_with_context(_csv_chunks(header, rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _csv_chunks(header: Row, rows: Iterable[Row]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % CSV_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def xlsx_response(filename: str, sheet: str, header: Row, rows: Iterable[Row]) -> Response:
    output = io.BytesIO()
    # Text stays text: a title starting with "=" is not a formula, "0123" not a number.
    workbook = xlsxwriter.Workbook(output, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    worksheet.write_row(0, 0, header, bold)
    worksheet.freeze_panes(1, 0)
    for number, row in enumerate(rows, start=1):
        worksheet.write_row(number, 0, row)
    workbook.close()
    return Response(output.getvalue(), headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f"attachment; filename={filename}"})
