"""Writing spreadsheets safely: streaming .xlsx (openpyxl write_only) and CSV, formula injection escaped.

A cell whose text starts with = + - @ (or a tab or carriage return) would run as a formula when
the file is opened in Excel or LibreOffice; such text is written with a leading apostrophe
(OWASP's advice). Plain numbers such as "-12.5" or "+8613800138000" are left alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def escape_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would evaluate made inert."""
    if isinstance(value, str) and value.startswith(_DANGEROUS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, Decimal):
        return float(value) if abs(value) < Decimal(10) ** 15 else str(value)
    if isinstance(value, list | dict):
        value = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", escape_cell(value))
    if value is None or isinstance(value, int | float | bool | date):
        return value
    return str(value)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return escape_cell(str(value) if not isinstance(value, str) else value)


SHEET_ROWS = 1_048_575
"""Data rows per sheet: Excel's 1,048,576 rows less the header; past it the rows go on a new sheet."""


def write_xlsx(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1",
               sheet_rows: int | None = None) -> int:
    """Stream rows into an .xlsx (write_only keeps memory flat); return the number of rows.
    Past `sheet_rows` data rows (default SHEET_ROWS) the rows continue on a new sheet, header repeated."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    base = re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "Sheet1"
    per_sheet = max(1, sheet_rows or SHEET_ROWS)
    heading = [_xlsx_value(h) for h in header]
    sheet = book.create_sheet(title=base)
    sheet.append(heading)
    count = in_sheet = 0
    for row in rows:
        if in_sheet >= per_sheet:
            suffix = f" ({count // per_sheet + 1})"
            sheet = book.create_sheet(title=base[:31 - len(suffix)] + suffix)
            sheet.append(heading)
            in_sheet = 0
        sheet.append([_xlsx_value(v) for v in row])
        count += 1
        in_sheet += 1
    book.save(out)
    return count


def write_csv(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig") -> int:
    """Stream rows as CSV text in `encoding` (UTF-8 with BOM by default: Excel reads Chinese right)."""
    text = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([_csv_value(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        count += 1
    text.flush()
    text.detach()
    return count
