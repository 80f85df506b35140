"""`metacrm import FILE --object lead`, `metacrm export OBJECT FILE` and import templates and jobs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..engines.exports import export_records
from ..engines.imports.errorfile import write_error_file
from ..engines.imports.mapping import delete_template, list_templates, save_template
from ..engines.imports.preview import preview
from ..engines.imports.runner import (
    create_import,
    get_import,
    job_dict,
    list_imports,
    run_import,
)
from ..store.db import reading
from . import handle_errors, services
from .records import json_argument


def _echo(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def _summary(job: dict[str, Any]) -> str:
    return (f"import {job['id']} {job['status']}: {job['rows_done']}/{job['total_rows']} rows, "
            f"{job['created']} created, {job['failed']} failed, {job['skipped']} skipped as duplicates, "
            f"{job['merged']} merged, {job['flagged']} flagged for review, "
            f"{job['already_imported']} already imported")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--object", "object_name", required=True, help="The object to import into, e.g. lead.")
@click.option("--template", help="A saved import template (mapping and constants).")
@click.option("--mapping", help='JSON {"column header": "field"}; overrides the template and the suggestion.')
@click.option("--constants", help='JSON {"field": value} for every row, e.g. {"channel": "2026 trade show"}.')
@click.option("--encoding", help="CSV text encoding (detected when not given: BOM, UTF-8, GB18030).")
@click.option("--on-duplicate", type=click.Choice(["merge", "skip", "flag", "none"]),
              help="Override the dedupe definition's action for this import.")
@click.option("--day-first/--month-first", "day_first", default=None,
              help="Date order of forms like 04/06/2023 (without it they are ambiguous_date errors).")
@click.option("--timezone", help="Time zone of naive times in the file (default: the installation's).")
@click.option("--header-row", type=int, help="The header's row number (default: found below title rows).")
@click.option("--value-map", help='JSON {"field": {"source value": "option"}}, e.g. {"status": {"Open": "new"}}.')
@click.option("--ignore-unmapped", is_flag=True,
              help="Drop columns mapped to no field (default: kept in the more-information/notes field).")
@click.option("--keep-field", help="The text field that keeps unmapped columns (default: notes).")
@click.option("--phone-region", help="Region of phones without a country code, e.g. US (default: CN).")
@click.option("--sheet", "sheet_name", help="The workbook sheet to read, by name (default: the first with data).")
@click.option("--reimport", is_flag=True, help="Import rows an earlier import of this file already wrote, again.")
@click.option("--batch-size", default=1000, show_default=True)
@click.option("--preview", "only_preview", is_flag=True, help="Show headers, first rows and the suggested mapping.")
@click.option("--errors", "errors_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the failed rows (with an error column) to this .xlsx file.")
@click.option("--language", default="en", show_default=True, help="Language of the error column.")
@handle_errors
def import_command(file: Path, object_name: str, template: str | None, mapping: str | None, constants: str | None,
                   encoding: str | None, on_duplicate: str | None, day_first: bool | None, timezone: str | None,
                   header_row: int | None, value_map: str | None, ignore_unmapped: bool, keep_field: str | None,
                   phone_region: str | None, sheet_name: str | None, reimport: bool, batch_size: int,
                   only_preview: bool,
                   errors_to: Path | None, language: str) -> None:
    """Import an .xlsx or .csv file into an object, with a progress bar."""
    with services() as svc:
        if only_preview:
            _echo(preview(svc, file, file.name, object_name, encoding, header_row=header_row,
                          value_map=json_argument(value_map, "value_map") if value_map else None,
                          sheet_name=sheet_name))
            return
        job = create_import(svc, file, file.name, object_name, template=template,
                            mapping=json_argument(mapping, "mapping") if mapping else None,
                            constants=json_argument(constants, "constants") if constants else None,
                            encoding=encoding, batch_size=batch_size, on_duplicate=on_duplicate,
                            day_first=day_first, timezone=timezone, header_row=header_row,
                            value_map=json_argument(value_map, "value_map") if value_map else None,
                            unmapped="ignore" if ignore_unmapped else "keep", keep=keep_field,
                            phone_region=phone_region, reimport=reimport, sheet_name=sheet_name)
        options = job["options"]
        click.echo(f"import {job['id']}: {job['total_rows']} rows, header in row {options['header_row']}; mapping "
                   + json.dumps(job["mapping"], ensure_ascii=False), err=True)
        if options["unmapped"]:
            where = f"kept in '{options['keep_field']}'" if options["keep_field"] else "not imported"
            click.echo("columns mapped to no field (" + where + "): "
                       + ", ".join(options["unmapped"]), err=True)
        done = _run_with_bar(svc, job)
        click.echo(_summary(done))
        for note in (done.get("options") or {}).get("notes") or ():  # e.g. a time of day dropped from dates
            click.echo(f"note: {note['message']}", err=True)
        if errors_to is not None and done["failed"]:
            with errors_to.open("wb") as fh, reading(svc.engine) as conn:
                write_error_file(conn, done["id"], fh, language)
            click.echo(f"failed rows written to {errors_to}")


def _run_with_bar(svc: Any, job: dict[str, Any]) -> dict[str, Any]:
    with click.progressbar(length=max(job["total_rows"], 1), label="importing", file=sys.stderr,
                           show_pos=True, item_show_func=lambda s: s) as bar:
        last = {"done": 0}

        def progress(state: dict[str, Any]) -> None:
            bar.update(state["rows_done"] - last["done"], f"{state['rate'] or 0:,.0f} rows/s")
            last["done"] = state["rows_done"]

        return run_import(svc, job["id"], progress=progress)


@click.group("imports")
def imports_group() -> None:
    """Import jobs (list, status, resume, error rows) and import templates."""


@imports_group.command("list")
@click.option("--object", "object_name")
@handle_errors
def imports_list(object_name: str | None) -> None:
    with services() as svc, reading(svc.engine) as conn:
        for job in list_imports(conn, object_name):
            click.echo(_summary(job))


@imports_group.command("status")
@click.argument("import_id", type=int)
@handle_errors
def imports_status(import_id: int) -> None:
    with services() as svc, reading(svc.engine) as conn:
        _echo(job_dict(get_import(conn, import_id)))


@imports_group.command("resume")
@click.argument("import_id", type=int)
@handle_errors
def imports_resume(import_id: int) -> None:
    """Continue an interrupted import after its last committed batch."""
    with services() as svc:
        with reading(svc.engine) as conn:
            job = job_dict(get_import(conn, import_id))
        click.echo(_summary(_run_with_bar(svc, job)))


@imports_group.command("errors")
@click.argument("import_id", type=int)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--language", default="en", show_default=True)
@handle_errors
def imports_errors(import_id: int, out: Path, language: str) -> None:
    """Write an import's failed rows, as uploaded plus an error column, to OUT (.xlsx or .csv)."""
    with services() as svc, reading(svc.engine) as conn, out.open("wb") as fh:
        count = write_error_file(conn, import_id, fh, language, "csv" if out.suffix.lower() == ".csv" else "xlsx")
    click.echo(f"{count} failed row(s) written to {out}")


@imports_group.command("save-template")
@click.argument("name")
@click.option("--object", "object_name", required=True)
@click.option("--mapping", required=True, help='JSON {"column header": "field"}')
@click.option("--constants", default="{}", help='JSON {"field": value}')
@handle_errors
def imports_save_template(name: str, object_name: str, mapping: str, constants: str) -> None:
    with services() as svc, svc.engine.begin() as conn:
        obj = svc.registry.current(conn).object(object_name)
        _echo(save_template(conn, name, obj, json_argument(mapping, "mapping"), json_argument(constants, "constants")))


@imports_group.command("templates")
@click.option("--object", "object_name")
@handle_errors
def imports_templates(object_name: str | None) -> None:
    with services() as svc, reading(svc.engine) as conn:
        for tpl in list_templates(conn, object_name):
            _echo(tpl)


@imports_group.command("delete-template")
@click.argument("name")
@handle_errors
def imports_delete_template(name: str) -> None:
    with services() as svc, svc.engine.begin() as conn:
        delete_template(conn, name)


@click.command("export")
@click.argument("object_name")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--segment", help="Export a saved segment (its object replaces OBJECT_NAME).")
@click.option("--filter", "rule", help="A rule (JSON) the records must match.")
@click.option("--fields", help="Comma-separated fields (default: all).")
@click.option("--hide", help="Comma-separated fields never to write.")
@click.option("--language", default="en", show_default=True)
@click.option("--encoding", default="utf-8-sig", show_default=True, help="CSV encoding, e.g. gb18030.")
@handle_errors
def export_command(object_name: str, out: Path, segment: str | None, rule: str | None, fields: str | None,
                   hide: str | None, language: str, encoding: str) -> None:
    """Export records to OUT (.xlsx or .csv by its suffix), labels in --language."""
    fmt = "csv" if out.suffix.lower() == ".csv" else "xlsx"
    with services() as svc, out.open("wb") as fh:
        count = export_records(svc, object_name, fh, fmt, segment=segment,
                               rule=json_argument(rule, "filter") if rule else None,
                               fields=fields.split(",") if fields else None,
                               hidden_fields=set(hide.split(",")) if hide else set(), language=language,
                               encoding=encoding)
    click.echo(f"{count} record(s) written to {out}")


def register(main: click.Group) -> None:
    main.add_command(import_command)
    main.add_command(imports_group)
    main.add_command(export_command)
