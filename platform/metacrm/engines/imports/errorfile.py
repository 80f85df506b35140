"""The error file of an import: the failed rows exactly as uploaded plus one column saying what to fix.

The columns are the file's own, so the fixed file imports again with the same mapping or
template. However often a file goes round (import, download errors, fix, import), it has one
errors column: the file's own errors column is replaced, never a second one appended, and the
importer never reads it as data. Text that a spreadsheet would run as a formula (= + - @) is
written with an apostrophe, which the importer removes again; nothing else is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from ...messages import language_of, message
from .mapping import is_error_column
from .runner import error_rows, get_import

ERROR_COLUMN = {"en": "Errors", "zh": "错误"}


def problem_text(problem: dict[str, Any], where: str, language: str) -> str:
    """One problem for people, in the importer's language: the column, then what is wrong."""
    detail = str(problem.get("message") or "")
    if language_of(language) == "zh":
        text = message(str(problem.get("code") or ""), "zh") or detail
        if detail and detail != text and not detail.startswith(("is required", "must")):
            text = f"{text}（{detail}）"
        return f"{where}：{text}"
    return f"{where}: {detail or message(str(problem.get('code') or ''), 'en') or ''}"


def write_error_file(conn: Connection, job_id: int, out: Any, language: str = "en", fmt: str = "xlsx") -> int:
    """Write the failed rows of import `job_id` to `out` (.xlsx or CSV); returns the row count."""
    from ..sheets import write_csv, write_xlsx

    job = get_import(conn, job_id)
    headers = list(job["options"]["headers"])
    columns = {f: h for h, f in job["mapping"].items() if f}
    err_at = next((i for i, h in enumerate(headers) if is_error_column(h)), None)
    row_word = "第{}行" if language_of(language) == "zh" else "row {}"

    def rows() -> Iterator[list[Any]]:
        for item in error_rows(conn, job_id):
            text = "; ".join(problem_text(p, columns.get(p["field"], p["field"]) or row_word.format(item["row_number"]),
                                          language) for p in item["problems"])
            cells = (list(item["cells"]) + [None] * len(headers))[: len(headers)]
            if err_at is not None:
                cells[err_at] = text
                yield cells
            else:
                yield [*cells, text]

    label = ERROR_COLUMN["zh" if language_of(language) == "zh" else "en"]
    header = headers if err_at is not None else [*headers, label]
    if fmt == "csv":
        return write_csv(out, header, rows())
    return write_xlsx(out, header, rows(), title="errors")
