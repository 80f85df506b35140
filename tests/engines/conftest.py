"""Helpers for the data factory tests: spreadsheets written on the fly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], merge: str | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    book.save(path)
    return path


@pytest.fixture
def xlsx(tmp_path: Path):
    def make(rows: Sequence[Sequence[Any]], name: str = "leads.xlsx", merge: str | None = None) -> Path:
        return write_xlsx(tmp_path / name, rows, merge)

    return make
