"""Reading uploaded spreadsheets safely: .xlsx (python-calamine, or openpyxl read-only) and .csv.

Uploaded files are hostile until proven otherwise. Before any parser sees an .xlsx we check its
zip directory (member count, uncompressed sizes, compression ratio: a zip bomb is refused
unopened); then sheets with no header, no data, too many rows or columns, or oversized cells are
refused with a clear error naming the limit. CSV text is decoded from a byte-order mark, UTF-8 or
GB18030 (or an encoding the user chose).

Real exports start with title rows, a date line or blank rows: the header is the first row whose
cells match the object's field names best (`choose_header`; the `header_row` option overrides).
A merged cell's value is spread over its whole range (a merged title, a header spanning two
columns, a company written once for three contacts), and numeric cells of 16+ digits keep the
literal digits the file holds (`literals.py`).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import Problem, ValidationError
from .literals import long_numbers
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
    kind: str  # xlsx | xls | csv
    headers: list[str]
    total_rows: int
    encoding: str | None = None
    sheet_name: str | None = None
    first_row: int = 1
    """The header's row number as the user sees it (1-based; title rows above it are skipped)."""
    warnings: list[str] = field(default_factory=list)
    header_guessed: bool = True
    """True when the header row was found by matching labels, False when the import named it."""
    sheet_names: list[str] = field(default_factory=list)
    """Every sheet of the workbook, in order (empty for CSV): the import may pick one by name."""

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
    if suffix == ".xls":
        return "xls"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise refuse(f"'{Path(filename).name}' is not an .xlsx, .xls or .csv file", "unsupported_file")


HEADER_SEARCH_ROWS = 30
"""How many non-empty rows at the top of a sheet may hold the header (title rows above it)."""

HeaderScore = Callable[[str], float]


def choose_header(rows: Sequence[tuple[int, list[Any]]], score: HeaderScore | None) -> tuple[int, list[Any]]:
    """The header among the first non-empty rows: the best match to the object's field names (ties:
    the earliest), else the first row as wide as the table (a title row fills one merged cell)."""
    if not rows:
        return 1, []
    best, best_score = None, 0.0
    if score is not None:
        for number, cells in rows:
            texts = {c.strip() for c in cells if isinstance(c, str) and c.strip()}
            total = sum(score(t) for t in texts)
            if total > best_score:
                best, best_score = (number, cells), total
    if best is not None and best_score >= 1:
        return best
    width = max(_filled(cells) for _, cells in rows)
    for number, cells in rows:
        if _filled(cells) >= max(2, width // 2) or _filled(cells) == width:
            return number, cells
    return rows[0]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _filled(cells: Sequence[Any]) -> int:
    return sum(1 for c in cells if c not in (None, ""))


def open_sheet(path: Path, filename: str, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None,
               score: HeaderScore | None = None, header_row: int | None = None, sheet_name: str | None = None) -> Sheet:
    """Check a stored upload against the limits and return the named sheet, or its first non-empty one.

    `score` rates a header text (1.0: it names a field); `header_row` (1-based) overrides the guess.
    A sheet with a header and no data rows is refused as `empty`; a name the workbook lacks as `no_sheet`.
    """
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise refuse(f"the file has {size} bytes, more than the limit of {limits.max_file_bytes}", "too_large")
    if size == 0:
        raise refuse("the file is empty", "empty_file")
    kind = file_kind(filename)
    if kind == "csv":
        sheet = _open_csv(path, limits, encoding, score, header_row)
    else:
        sheet = _open_xlsx(path, limits, kind, score, header_row, sheet_name)
    if not any(h for h in sheet.headers):
        raise refuse(f"the header row ({sheet.first_row}) is empty", "no_header")
    if sheet.total_rows == 0:
        raise refuse(f"the sheet has a header (row {sheet.first_row}) but no data rows", "empty")
    return sheet


def open_upload(path: Path, filename: str, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None,
                score: HeaderScore | None = None, header_row: int | None = None, sheet_name: str | None = None) -> Sheet:
    """open_sheet in a jailed child (memory and time limits): what every upload goes through."""
    return in_child(open_sheet, path, filename, limits, encoding, score, header_row, sheet_name)


def _header(rows: Iterator[list[Any]], score: HeaderScore | None, header_row: int | None) -> tuple[int, list[Any]]:
    if header_row is not None:
        for number, row in enumerate(rows, start=1):
            if number == header_row:
                return number, row
        raise refuse(f"the sheet has no row {header_row}", "no_header", "header_row")
    top: list[tuple[int, list[Any]]] = []
    for number, row in enumerate(rows, start=1):
        if any(c not in (None, "") for c in row):
            top.append((number, row))
            if len(top) >= HEADER_SEARCH_ROWS:
                break
    return choose_header(top, score)


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


def _open_xlsx(path: Path, limits: Limits, kind: str = "xlsx", score: HeaderScore | None = None,
               header_row: int | None = None, sheet_name: str | None = None) -> Sheet:
    if kind == "xlsx":
        check_zip(path, limits)
        check_xlsx_xml(path, limits.max_rows + limits.title_rows, limits.max_columns, limits.max_cells)
    book = _workbook(path)
    try:
        names = list(book.sheet_names)
        if sheet_name is not None and sheet_name not in names:
            raise refuse(f"the workbook has no sheet '{sheet_name[:100]}'; its sheets: " + ", ".join(names)[:500],
                         "no_sheet", "sheet")
        fallback: Sheet | None = None
        for name in [sheet_name] if sheet_name is not None else names:
            try:
                sheet = book.get_sheet_by_name(name)
            except Exception as exc:  # calamine's XmlError and friends: the file lies about itself
                raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
            if sheet.height == 0 or sheet.width == 0:
                if sheet_name is not None:
                    raise refuse(f"sheet '{name}' is empty", "empty", "sheet")
                continue
            if sheet.width > limits.max_columns:
                raise refuse(f"sheet '{name}' has {sheet.width} columns, more than {limits.max_columns}",
                             "too_many_columns")
            if sheet.height - 1 > limits.max_rows + limits.title_rows:
                raise refuse(f"sheet '{name}' has {sheet.height - 1} rows, more than {limits.max_rows}",
                             "too_many_rows")
            first_row, first = _header(_iter(path, kind, name, None), score, header_row)
            headers = _headers(first, limits)
            total = _scan(path, kind, name, None, limits, first_row)
            found = Sheet(path, kind, headers, total, sheet_name=name, first_row=first_row,
                          header_guessed=header_row is None, sheet_names=names)
            if total or sheet_name is not None:
                return found
            fallback = fallback or found  # a notes sheet before the data: try the next one
    finally:
        book.close()
    if fallback is not None:
        return fallback  # refused by the caller as `empty`, naming its header row
    raise refuse("the workbook has no sheet with data", "empty_sheet")


def _xlsx_rows(path: Path, sheet_name: str | None, kind: str = "xlsx") -> Iterator[list[Any]]:
    """The sheet's rows from row 1 and column A, merged ranges filled with their top-left value,
    long numbers with their literal digits."""
    book = _workbook(path)
    try:
        try:
            sheet = book.get_sheet_by_name(sheet_name) if sheet_name else book.get_sheet_by_index(0)
            rows = iter(sheet.iter_rows())
            start = sheet.start or (0, 0)
            merged = list(sheet.merged_cell_ranges or [])
        except Exception as exc:  # a sheet that breaks mid-way is a bad file, not a server error
            raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
        pad = [None] * int(start[1])
        spans = _Spans(merged)
        literals: dict[tuple[int, int], str] | None = None
        index = -1
        while True:
            try:
                raw = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise unreadable(f"{type(exc).__name__}: {exc}"[:300]) from None
            index += 1
            row = [*pad, *(None if c == "" else c for c in raw)]
            for col, cell in enumerate(row):
                if isinstance(cell, float) and cell.is_integer() and abs(cell) >= 1e15 and kind == "xlsx":
                    if literals is None:
                        literals = long_numbers(path, sheet_name)
                    row[col] = literals.get((index + 1, col + 1), cell)
            yield spans.fill(index, row)
    finally:
        book.close()


class _Spans:
    """Merged ranges ((r0, c0), (r1, c1)), 0-based: every cell of a range shows its top-left value."""

    def __init__(self, ranges: Sequence[Any]) -> None:
        self.by_row: dict[int, list[tuple[int, int, int, int]]] = {}
        for (r0, c0), (r1, c1) in ranges:
            for r in range(int(r0), int(r1) + 1):
                self.by_row.setdefault(r, []).append((int(r0), int(c0), int(r1), int(c1)))
        self.values: dict[tuple[int, int], Any] = {}

    def fill(self, index: int, row: list[Any]) -> list[Any]:
        for r0, c0, r1, c1 in self.by_row.get(index, ()):
            if index == r0:
                value = row[c0] if c0 < len(row) else None
                if r1 > r0:
                    self.values[(r0, c0)] = value
            else:
                value = self.values.get((r0, c0))
            if value is None:
                continue
            if len(row) <= c1:
                row.extend([None] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                if row[c] is None:
                    row[c] = value
            if index == r1:
                self.values.pop((r0, c0), None)
        return row


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


def _open_csv(path: Path, limits: Limits, encoding: str | None, score: HeaderScore | None = None,
              header_row: int | None = None) -> Sheet:
    encoding = encoding or detect_encoding(path.read_bytes())
    text = _read_text(path, encoding)
    if "\x00" in text:
        raise refuse("the file contains NUL bytes; it is not a text file", "not_csv")
    old_limit = csv.field_size_limit(limits.max_cell_chars + 1)
    try:
        first_row, first = _header(_iter(path, "csv", None, encoding), score, header_row)
        if not first:
            raise refuse("the file has no rows", "empty_sheet")
        headers = _headers(first, limits)
        total = _scan(path, "csv", None, encoding, limits, first_row)
        return Sheet(path, "csv", headers, total, encoding=encoding, first_row=first_row,
                     header_guessed=header_row is None)
    except csv.Error as exc:
        raise refuse(f"the CSV cannot be read: {exc}", "not_csv") from None
    finally:
        csv.field_size_limit(old_limit)


# --- shared checks ----------------------------------------------------------------------------

def _headers(first: list[Any], limits: Limits) -> list[str]:
    if len(first) > limits.max_columns:
        raise refuse(f"the sheet has {len(first)} columns, more than {limits.max_columns}", "too_many_columns")
    headers = ["" if h is None else _text(h).strip() for h in first]
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


def _iter(path: Path, kind: str, sheet: str | None, encoding: str | None) -> Iterator[list[Any]]:
    return _csv_rows(path, encoding or "utf-8") if kind == "csv" else _xlsx_rows(path, sheet, kind)


def _scan(path: Path, kind: str, sheet: str | None, encoding: str | None, limits: Limits, first_row: int = 1) -> int:
    """One pass over the cells: checks row and column counts and cell sizes; returns the data rows
    (the non-empty rows below the header)."""
    rows = 0
    for number, row in enumerate(_iter(path, kind, sheet, encoding), start=1):
        if not any(c not in (None, "") for c in row):
            continue
        if number > first_row:
            rows += 1
        if rows > limits.max_rows:
            raise refuse(f"the sheet has more than {limits.max_rows} rows", "too_many_rows")
        if len(row) > limits.max_columns and any(c not in (None, "") for c in row[limits.max_columns:]):
            raise refuse(f"row {number} has more than {limits.max_columns} columns", "too_many_columns")
        for col, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
                where = _cell_name(number - 1, col)
                raise refuse(f"cell {where} holds {len(cell)} characters, more than {limits.max_cell_chars}",
                             "cell_too_large", where)
    return rows
