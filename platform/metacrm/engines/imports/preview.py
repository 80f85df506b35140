"""What the mapping screen shows before anything is imported: the header row found, the suggested
mapping with how sure each guess is, the columns no field takes, the values no option takes, and
the required fields no column fills."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import Problem, ValidationError
from ...meta.objects import ObjectDef
from ...store.services import Services
from ..normalize import clean_text, is_blank
from .mapping import header_score, is_error_column, keep_field, suggest, unmapped_columns, value_lookup
from .readers import DEFAULT_LIMITS, Limits, Sheet, open_sheet
from .rows import display, has_time, json_cell, time_dropped_notes
from .safety import in_child

MAX_DISTINCT = 200
"""Distinct values counted per column for the value mapping (the rest are counted as 'other')."""


def missing_required(obj: ObjectDef, mapping: Mapping[str, Any], constants: Mapping[str, Any]) -> list[str]:
    """Required fields that no column fills and that have no default or constant."""
    filled = {f for f in mapping.values() if f} | set(constants)
    defaults = dict(obj.defaults)
    return [n for n, f in obj.fields.items() if f.required and n not in filled and n not in defaults]


def check_required(obj: ObjectDef, mapping: Mapping[str, Any], constants: Mapping[str, Any]) -> None:
    """Refuse an import that would fail every row: a required field with no column, constant or default."""
    missing = missing_required(obj, mapping, constants)
    if missing:
        raise ValidationError("required fields have no column: " + ", ".join(missing) + "; map a column to "
                              "them or give a constant", [Problem(f"mapping/{n}", "required_unmapped",
                                                                  f"no column fills the required field '{n}'")
                                                          for n in missing])


def _scan(path: Path, filename: str, limits: Limits, encoding: str | None, rows: int, score: Any,
          header_row: int | None, sheet_name: str | None = None) -> tuple[Sheet, list[list[Any]], list[dict[str, int]]]:
    """The sheet, its first rows as JSON cells and per column the counts of its values (jailed child)."""
    sheet = open_sheet(path, filename, limits, encoding, score, header_row, sheet_name)
    first: list[list[Any]] = []
    counts: list[Counter[str]] = [Counter() for _ in sheet.headers]
    for _, cells in sheet.rows():
        if len(first) < rows:
            first.append([json_cell(c) for c in cells])
        for i, cell in enumerate(cells):
            if is_blank(cell):
                continue
            text = clean_text(str(display(cell)))
            if text in counts[i] or len(counts[i]) < MAX_DISTINCT:
                counts[i][text] += 1
    return sheet, first, [dict(c) for c in counts]


def preview(services: Services, path: Path, filename: str, object_name: str, encoding: str | None = None,
            rows: int = 10, limits: Limits = DEFAULT_LIMITS, header_row: int | None = None,
            value_map: Mapping[str, Mapping[str, str]] | None = None, sheet_name: str | None = None) -> dict[str, Any]:
    """Headers, the first rows, the row count, the suggested mapping and what still needs a decision."""
    obj = services.registry.current().object(object_name)
    sheet, first, counts = in_child(_scan, path, filename, limits, encoding, rows, header_score(obj), header_row,
                                    sheet_name)
    details = suggest(sheet.headers, obj)
    mapping = {d["header"]: d["field"] for d in details}
    index = {h: i for i, h in enumerate(sheet.headers)}
    for d in details:
        d["samples"] = list(counts[index[d["header"]]])[:5]
    keep = keep_field(obj)
    unmapped = [{"header": h, "samples": list(counts[index[h]])[:5],
                 "decision": "keep" if keep else "ignore", "keep_field": keep}
                for h in unmapped_columns(sheet.headers, mapping) if counts[index[h]]]
    return {"headers": sheet.headers, "rows": first, "total_rows": sheet.total_rows, "encoding": sheet.encoding,
            "sheet": sheet.sheet_name, "sheets": sheet.sheet_names, "header_row": sheet.first_row, "header_guessed": sheet.header_guessed,
            "suggested_mapping": mapping, "mapping_details": details, "unmapped_columns": unmapped,
            "keep_field": keep, "error_columns": [h for h in sheet.headers if is_error_column(h)],
            "missing_required": missing_required(obj, mapping, {}),
            "notes": time_dropped_notes(_with_time(obj, mapping, counts, index), {f: h for h, f in reversed(mapping.items())}),
            "unmapped_values": unmapped_values(obj, mapping, counts, index, value_map or {}),
            "fields": [{"name": n, "type": f.type.name, "label": dict(f.label), "required": f.required,
                        "options": list(f.options)} for n, f in obj.fields.items()]}


def _with_time(obj: ObjectDef, mapping: Mapping[str, str], counts: Sequence[Mapping[str, int]],
               index: Mapping[str, int]) -> dict[str, int]:
    """Per date field, the rows whose (first) column holds a time of day, which the field drops."""
    out: dict[str, int] = {}
    for header, name in mapping.items():
        if name not in out and obj.fields[name].type.name == "date":
            out[name] = sum(n for text, n in counts[index[header]].items() if has_time(text))
    return out


def unmapped_values(obj: ObjectDef, mapping: Mapping[str, str], counts: Sequence[Mapping[str, int]],
                    index: Mapping[str, int], value_map: Mapping[str, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Per option column, the values that map to no option, with their counts (most frequent first)."""
    out = []
    for header, name in mapping.items():
        f = obj.fields.get(name)
        if f is None or not f.options:
            continue
        lookup = value_lookup(obj, f, value_map.get(name))
        multi = f.type.name == "multiselect"
        missing: Counter[str] = Counter()
        for text, n in counts[index[header]].items():
            items = [t.strip() for t in text.replace("，", ",").replace("、", ",").split(",")] if multi else [text]
            for item in items:
                if item and item.casefold() not in lookup:
                    missing[item] += n
        if missing:
            out.append({"header": header, "field": name,
                        "values": [{"value": v, "count": n} for v, n in missing.most_common()]})
    return out
