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


def write_xlsx(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> int:
    """Stream rows into an .xlsx (write_only keeps memory flat); return the number of rows."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "Sheet1")
    sheet.append([_xlsx_value(h) for h in header])
    count = 0
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
        count += 1
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
