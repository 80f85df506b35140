"""Hostile uploads are refused with a clear error naming the limit, never a crash."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from metacrm.engines.imports.readers import DEFAULT_LIMITS, Limits, detect_encoding, open_sheet
from metacrm.errors import ValidationError


def _refused(path: Path, name: str | None = None, limits: Limits = DEFAULT_LIMITS, encoding: str | None = None) -> str:
    with pytest.raises(ValidationError) as err:
        open_sheet(path, name or path.name, limits, encoding)
    assert err.value.code == "invalid_file"
    return err.value.problems[0].code


def test_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<" + "a" * (20 * 1024 * 1024))
    assert _refused(path) == "zip_bomb"
    assert _refused(path, limits=Limits(max_uncompressed_bytes=1024, max_compression_ratio=10**9)) == "zip_bomb"


def test_not_a_zip_and_wrong_extension(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK but not really a zip")
    assert _refused(path) == "not_xlsx"
    other = tmp_path / "x.exe"
    other.write_bytes(b"MZ")
    assert _refused(other) == "unsupported_file"
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _refused(empty) == "empty_file"


def test_row_column_and_cell_limits(xlsx):
    limits = Limits(max_rows=3, max_columns=4, max_cell_chars=10)
    assert _refused(xlsx([["a"], *[[i] for i in range(5)]], "rows.xlsx"), limits=limits) == "too_many_rows"
    assert _refused(xlsx([list("abcdef"), [1, 2, 3, 4, 5, 6]], "cols.xlsx"), limits=limits) == "too_many_columns"
    assert _refused(xlsx([["a"], ["x" * 11]], "cell.xlsx"), limits=limits) == "cell_too_large"


def test_merged_cells_spread_their_value_and_empty_sheets(xlsx):
    sheet = open_sheet(xlsx([["name", "phone"], ["a", "b"], [None, "d"]], "m.xlsx", merge="A2:A3"), "m.xlsx")
    assert [cells for _, cells in sheet.rows()] == [["a", "b"], ["a", "d"]]
    assert _refused(xlsx([], "empty.xlsx")) == "empty_sheet"
    assert _refused(xlsx([["name", "phone"]], "header-only.xlsx")) == "empty"


def test_csv_encodings_and_limits(tmp_path):
    assert detect_encoding("名".encode("gb18030")) == "gb18030"
    assert detect_encoding("\ufeffname".encode()) == "utf-8-sig"
    assert detect_encoding(b"name") == "utf-8"
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"name\n\xff\xfe\xfa\n\x81")
    assert _refused(bad) == "unknown_encoding"
    wrong = tmp_path / "wrong.csv"
    wrong.write_bytes("姓名\n王伟\n".encode("gb18030"))
    assert _refused(wrong, encoding="utf-8") == "wrong_encoding"
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"a,b\n1,\x00\n")
    assert _refused(nul) == "not_csv"
    big = tmp_path / "big.csv"
    big.write_text("a\n" + "x" * 50 + "\n")
    assert _refused(big, limits=Limits(max_cell_chars=10)) in ("cell_too_large", "not_csv")


def test_header_only_sheet_is_refused_as_empty(standard_pack, xlsx):
    from metacrm.engines.imports.runner import create_import

    with pytest.raises(ValidationError) as err:
        create_import(standard_pack, xlsx([["name", "phone"]]), "h.xlsx", "lead")
    assert err.value.problems[0].code == "empty" and "row 1" in str(err.value)


def test_wrong_types_become_row_errors_not_crashes(standard_pack, xlsx):
    from datetime import datetime

    from metacrm.engines.imports.runner import create_import, run_import

    rows = [["name", "score", "budget", "next_follow_up", "consent_marketing", "captured_at"],
            ["a", "abc", "1e400", "not a date", "maybe", "yesterday"],
            ["b", 3.5, -1, "2026/13/45", 2, 42],
            ["c", 7, "1,234.50", "2026年1月5日", "是", datetime(2026, 1, 5, 9, 30)]]
    done = run_import(standard_pack, create_import(standard_pack, xlsx(rows), "t.xlsx", "lead")["id"])
    assert (done["created"], done["failed"]) == (1, 2)
    lead = standard_pack.records.list("lead")[0]
    assert lead["budget"] == "1234.50" and lead["next_follow_up"] == "2026-01-05"
    assert lead["consent_marketing"] is True and lead["captured_at"] == "2026-01-05T09:30:00Z"
