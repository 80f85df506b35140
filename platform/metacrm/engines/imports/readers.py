"""Reading uploaded spreadsheets safely: .xlsx (python-calamine, or openpyxl read-only) and .csv.

Uploaded files are hostile until proven otherwise. Before any parser sees an .xlsx we check its
zip directory (member count, uncompressed sizes, compression ratio: a zip bomb is refused
unopened); then sheets with merged cells, no header, too many rows or columns, or oversized cells
are refused with a clear error naming the limit. CSV text is decoded from a byte-order mark,
UTF-8 or GB18030 (or an encoding the user chose).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import Problem, ValidationError
from .safety import check_xlsx_xml, in_child, unreadable

CSV_ENCODINGS = ("utf-8", "gb18030")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


@dataclass(frozen=True)
class Limits:
    """What an uploaded file may hold; anything over is refused before it is imported."""

    max_rows: int = 200_000
    max_columns: int = 1_000
    max_cells: int = 5_000_000
    """Rows x columns of a sheet's extent: what the reader's grid costs, checked before it is built."""
    title_rows: int = 1_000
    """Rows above the header (titles, blank lines) a sheet may have beyond max_rows."""
    max_cell_chars: int = 32_767
    max_file_bytes: int = 100 * 1024 * 1024
    max_uncompressed_bytes: int = 256 * 1024 * 1024
    max_zip_members: int = 10_000
    max_compression_ratio: int = 200


DEFAULT_LIMITS = Limits()


@dataclass
class Sheet:
    """A readable table: its header, how many data rows it has, and how to read them again."""

    path: Path
    kind: str  # xlsx | csv
    headers: list[str]
    total_rows: int
    encoding: str | None = None
    sheet_name: str | None = None
    first_row: int = 1
    """The header's row number (calamine skips leading empty rows; numbers stay the user's)."""
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as the user sees it, cells) of the non-empty data rows, padded to the header."""
        width = len(self.headers)
        source = _iter(self.path, self.kind, self.sheet_name, self.encoding)
        for number, row in enumerate(source, start=1):
            if number <= self.first_row or not any(c not in (None, "") for c in row):
                continue
            if len(row) < width:
                row = [*row, *([None] * (width - len(row)))]
            yield number, row[:width]


def refuse(message: str, code: str, where: str = "file") -> ValidationError:
    return ValidationError(message, [Problem(where, code, message)], code="invalid_file")


def file_kind(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise refuse(f"'{Path(filename).name}' is not an .xlsx or .csv file", "unsupported_file")


def open_sheet(path: Path, filename: str, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None) -> Sheet:
    """Check a stored upload against the limits and return its first non-empty sheet."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise refuse(f"the file has {size} bytes, more than the limit of {limits.max_file_bytes}", "too_large")
    if size == 0:
        raise refuse("the file is empty", "empty_file")
    kind = file_kind(filename)
    sheet = _open_xlsx(path, limits) if kind == "xlsx" else _open_csv(path, limits, encoding)
    if not any(h for h in sheet.headers):
        raise refuse("the sheet has no header row (first row is empty)", "no_header")
    return sheet


def open_upload(path: Path, filename: str, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None) -> Sheet:
    """open_sheet in a jailed child (memory and time limits): what every upload goes through."""
    return in_child(open_sheet, path, filename, limits, encoding)


# --- xlsx -------------------------------------------------------------------------------------

def check_zip(path: Path, limits: Limits) -> None:
    """Refuse zip bombs from the zip directory alone: nothing is decompressed here."""
    if not zipfile.is_zipfile(path):
        raise refuse("the file is not a valid .xlsx (not a zip archive)", "not_xlsx")
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise refuse(f"the .xlsx holds {len(members)} parts, more than {limits.max_zip_members}", "zip_bomb")
        total = 0
        for info in members:
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
                raise refuse(f"part {info.filename} expands {ratio:.0f} times; refused as a zip bomb", "zip_bomb")
        if total > limits.max_uncompressed_bytes:
            raise refuse(f"the .xlsx expands to {total} bytes, more than {limits.max_uncompressed_bytes}",
                         "zip_bomb")
        if not any(m.filename.startswith("xl/worksheets/") for m in members):
            raise refuse("the file is not a valid .xlsx (no worksheets)", "not_xlsx")


def _workbook(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own zoo of errors for broken files
        raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None


def _open_xlsx(path: Path, limits: Limits) -> Sheet:
    check_zip(path, limits)
    check_xlsx_xml(path, limits.max_rows + limits.title_rows, limits.max_columns, limits.max_cells)
    book = _workbook(path)
    try:
        for name in book.sheet_names:
            try:
                sheet = book.get_sheet_by_name(name)
            except Exception as exc:  # calamine's XmlError and friends: the file lies about itself
                raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
            if sheet.height == 0 or sheet.width == 0:
                continue
            if sheet.width > limits.max_columns:
                raise refuse(f"sheet '{name}' has {sheet.width} columns, more than {limits.max_columns}",
                             "too_many_columns")
            if sheet.height - 1 > limits.max_rows:
                raise refuse(f"sheet '{name}' has {sheet.height - 1} rows, more than {limits.max_rows}",
                             "too_many_rows")
            merged = sheet.merged_cell_ranges or []
            if merged:
                (r0, c0), (r1, c1) = merged[0]
                raise refuse(f"sheet '{name}' has {len(merged)} merged cell range(s), e.g. "
                             f"{_cell_name(r0, c0)}:{_cell_name(r1, c1)}; unmerge them and fill every row",
                             "merged_cells")
            first_row, first = _first_row(_iter(path, "xlsx", name, None))
            headers = _headers(first, limits)
            total = _scan(path, "xlsx", name, None, limits)
            return Sheet(path, "xlsx", headers, total, sheet_name=name, first_row=first_row)
    finally:
        book.close()
    raise refuse("the workbook has no sheet with data", "empty_sheet")


def _xlsx_rows(path: Path, sheet_name: str | None) -> Iterator[list[Any]]:
    book = _workbook(path)
    try:
        try:
            sheet = book.get_sheet_by_name(sheet_name) if sheet_name else book.get_sheet_by_index(0)
            rows = iter(sheet.iter_rows())
        except Exception as exc:  # a sheet that breaks mid-way is a bad file, not a server error
            raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
            yield [None if c == "" else c for c in row]
    finally:
        book.close()


def _cell_name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


# --- csv --------------------------------------------------------------------------------------

def detect_encoding(data: bytes) -> str:
    """A byte-order mark wins; else the first of UTF-8 and GB18030 that decodes the whole file."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    for name in CSV_ENCODINGS:
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    raise refuse("the file's text encoding is not UTF-8 or GB18030; choose its encoding", "unknown_encoding")


def _csv_reader(text: str) -> Iterator[list[str]]:
    """Excel-style CSV; the delimiter is whichever of , ; tab | the header line uses most."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=first.count) if any(d in first for d in ",;\t|") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _read_text(path: Path, encoding: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise refuse(f"the file cannot be decoded as {encoding}", "wrong_encoding") from None


def _csv_rows(path: Path, encoding: str) -> Iterator[list[Any]]:
    for row in _csv_reader(_read_text(path, encoding)):
        yield [None if cell == "" else cell for cell in row]


def _open_csv(path: Path, limits: Limits, encoding: str | None) -> Sheet:
    encoding = encoding or detect_encoding(path.read_bytes())
    text = _read_text(path, encoding)
    if "\x00" in text:
        raise refuse("the file contains NUL bytes; it is not a text file", "not_csv")
    old_limit = csv.field_size_limit(limits.max_cell_chars + 1)
    try:
        first_row, first = _first_row(_iter(path, "csv", None, encoding))
        if not first:
            raise refuse("the file has no rows", "empty_sheet")
        headers = _headers(first, limits)
        total = _scan(path, "csv", None, encoding, limits)
        return Sheet(path, "csv", headers, total, encoding=encoding, first_row=first_row)
    except csv.Error as exc:
        raise refuse(f"the CSV cannot be read: {exc}", "not_csv") from None
    finally:
        csv.field_size_limit(old_limit)


# --- shared checks ----------------------------------------------------------------------------

def _headers(first: list[Any], limits: Limits) -> list[str]:
    if len(first) > limits.max_columns:
        raise refuse(f"the sheet has {len(first)} columns, more than {limits.max_columns}", "too_many_columns")
    headers = ["" if h is None else str(h).strip() for h in first]
    while headers and not headers[-1]:
        headers.pop()
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = h or f"column_{i + 1}"
        if h in seen:
            seen[h] += 1
            h = f"{h} ({seen[h]})"
        else:
            seen[h] = 1
        out.append(h)
    return out


def _first_row(rows: Iterator[list[Any]]) -> tuple[int, list[Any]]:
    for number, row in enumerate(rows, start=1):
        if any(c not in (None, "") for c in row):
            return number, row
    return 1, []


def _iter(path: Path, kind: str, sheet: str | None, encoding: str | None) -> Iterator[list[Any]]:
    return _xlsx_rows(path, sheet) if kind == "xlsx" else _csv_rows(path, encoding or "utf-8")


def _scan(path: Path, kind: str, sheet: str | None, encoding: str | None, limits: Limits) -> int:
    """One pass over the cells: checks row and column counts and cell sizes; returns the data rows."""
    rows = 0
    for number, row in enumerate(_iter(path, kind, sheet, encoding), start=1):
        if not any(c not in (None, "") for c in row):
            continue
        rows += 1
        if rows - 1 > limits.max_rows:
            raise refuse(f"the sheet has more than {limits.max_rows} rows", "too_many_rows")
        if len(row) > limits.max_columns and any(c not in (None, "") for c in row[limits.max_columns:]):
            raise refuse(f"row {number} has more than {limits.max_columns} columns", "too_many_columns")
        for col, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
                where = _cell_name(number - 1, col)
                raise refuse(f"cell {where} holds {len(cell)} characters, more than {limits.max_cell_chars}",
                             "cell_too_large", where)
    return max(rows - 1, 0)
