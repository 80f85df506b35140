"""Import jobs: create one from an upload, run it batch by batch, resume it after a crash.

Each batch is one transaction holding its records (through the record service, so validation,
events and listeners apply), its error rows, its dedupe outcomes, its ledger row and the job's
progress. A crash loses at most the batch in flight; running the job again (or the same file in
a new job) skips every row the ledger says is committed, which makes re-runs idempotent.
"""

from __future__ import annotations

import bisect
import hashlib
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, delete, or_, select, update

from ...auth.principal import Principal, load_principal
from ...errors import NotFound, PermissionDenied, Problem, ValidationError
from ...meta.objects import ObjectDef
from ...store.bulk import insert_many
from ...store.db import reading
from ...store.services import Services
from ..dedupe.definition import DedupeDef, definitions_for
from ..dedupe.incoming import Hit, find_duplicates
from ..dedupe.listener import dedupe_handled
from ..dedupe.matching import PairSet
from ..dedupe.merge import merge_records, merged_values
from ..dedupe.review import add_candidates
from .mapping import (
    check_mapping,
    check_value_map,
    get_template,
    header_score,
    is_error_column,
    keep_field,
    suggest_mapping,
    unmapped_columns,
)
from .preview import check_required
from .readers import DEFAULT_LIMITS, Limits, Sheet, file_kind, open_upload
from .rows import RowMapper, json_cell, time_dropped_notes
from .tables import import_batches, import_errors, import_jobs, import_outcomes

BATCH_SIZE = 1000
STAGES = ("read", "normalise", "validate", "dedupe", "insert")
"""Where an import's time goes (job `seconds.stages`, bench/imports.py): reading the file, mapping
and normalising cells, validating, finding duplicates, writing (records, ledger, rows, commit)."""
Progress = Callable[[dict[str, Any]], None]
_COUNTERS = ("created", "failed", "skipped", "merged", "flagged", "already_imported")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value


def job_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: _iso(v) for k, v in row.items() if k != "file_path"}
    stats = row.get("seconds") or {}
    out["rate"] = stats.get("rate")
    out["notes"] = (row.get("options") or {}).get("notes") or []
    out["percent"] = round(100 * row["rows_done"] / row["total_rows"], 1) if row["total_rows"] else 100.0
    return out


def checksum_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def store_upload(services: Services, source: Path, filename: str) -> tuple[Path, str]:
    """Keep the upload under the instance folder by checksum, so jobs can run and resume later."""
    kind = file_kind(filename)
    digest = checksum_file(source)
    folder = Path(services.settings.instance_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.{kind}"
    if not target.exists():
        shutil.copyfile(source, target)
    return target, digest


def create_import(services: Services, path: Path, filename: str, object_name: str, *,
                  mapping: Mapping[str, str] | None = None, template: str | None = None,
                  constants: Mapping[str, Any] | None = None, encoding: str | None = None,
                  actor_id: int | None = None, batch_size: int = BATCH_SIZE,
                  on_duplicate: str | None = None, limits: Limits = DEFAULT_LIMITS,
                  outside_scope: str = "report", day_first: bool | None = None,
                  timezone: str | None = None, header_row: int | None = None,
                  value_map: Mapping[str, Any] | None = None, unmapped: str = "keep",
                  keep: str | None = None, phone_region: str | None = None,
                  reimport: bool = False, sheet_name: str | None = None) -> dict[str, Any]:
    """Check the file and the mapping and record a pending job (nothing is imported yet).

    Refused before anything is written: a mapping to unknown fields, a required field that no
    column, constant or default fills, an invalid value map or constant. Columns mapped to no field
    are kept in the object's more-information field (`unmapped="keep"`, the default; `keep` names
    the field) unless the import says `unmapped="ignore"` or maps them to null one by one.
    """
    if on_duplicate not in (None, "merge", "skip", "flag", "none"):
        raise ValidationError("on_duplicate is merge, skip, flag or none",
                              [Problem("on_duplicate", "enum", str(on_duplicate))])
    if unmapped not in ("keep", "ignore"):
        raise ValidationError("unmapped is keep or ignore", [Problem("unmapped", "enum", str(unmapped)[:32])])
    zone = _zone(timezone or services.settings.timezone)
    region = _phone_region(phone_region or services.records.ctx.default_region)
    stored, digest = store_upload(services, path, filename)
    obj = services.registry.current().object(object_name)
    sheet = open_upload(stored, filename, limits, encoding, header_score(obj), header_row, sheet_name)
    with services.engine.begin() as conn:
        obj = services.registry.current(conn).object(object_name)
        base_mapping: dict[str, str | None] = {}
        base_constants: dict[str, Any] = {}
        base_values: dict[str, Any] = {}
        if template:
            tpl = get_template(conn, template)
            if tpl["object"] != obj.name:
                raise ValidationError(f"template '{template}' is for {tpl['object']}, not {obj.name}",
                                      [Problem("template", "wrong_object", tpl["object"])])
            base_mapping = {h: f for h, f in tpl["mapping"].items() if h in sheet.headers}
            base_constants = dict(tpl["constants"])
            base_values = dict(tpl.get("value_map") or {})
        if mapping is None and not template:
            base_mapping = dict(suggest_mapping(sheet.headers, obj))
        final_mapping = {h: f for h, f in {**base_mapping, **(mapping or {})}.items() if not is_error_column(h)}
        final_constants = {**base_constants, **(constants or {})}
        final_values = {**base_values, **(value_map or {})}
        check_mapping(obj, sheet.headers, final_mapping, final_constants)
        check_value_map(obj, final_values)
        check_required(obj, final_mapping, final_constants)
        kept_in = keep_field(obj, keep) if unmapped == "keep" else None
        left = unmapped_columns(sheet.headers, final_mapping)
        mapper = RowMapper(obj, sheet.headers, final_mapping, final_constants, zone, day_first,
                           final_values, kept_in, left, region)
        if mapper.constant_problems:
            raise ValidationError("a constant value is invalid", mapper.constant_problems)
        now = _now()
        row = {"object": obj.name, "filename": Path(filename).name[:255], "file_path": str(stored),
               "checksum": digest, "kind": sheet.kind, "encoding": sheet.encoding, "sheet": sheet.sheet_name,
               "mapping": final_mapping, "constants": final_constants, "template": template,
               "options": {"headers": sheet.headers, "first_row": sheet.first_row, "batch_size": batch_size,
                           "on_duplicate": on_duplicate, "outside_scope": outside_scope,
                           "day_first": day_first, "timezone": zone.key, "header_row": sheet.first_row,
                           "value_map": final_values, "keep_field": kept_in, "unmapped": left,
                           "unmapped_kept": bool(kept_in), "phone_region": region, "reimport": reimport},
               "status": "pending", "total_rows": sheet.total_rows, "rows_done": 0, "last_row": 0,
               **dict.fromkeys(_COUNTERS, 0), "seconds": None, "error": None, "created_by": actor_id,
               "created_at": now, "started_at": None, "finished_at": None, "updated_at": now}
        job_id = int(conn.execute(import_jobs.insert().values(**row).returning(import_jobs.c.id)).scalar_one())
    return job_dict({**row, "id": job_id})


def _zone(name: str) -> ZoneInfo:
    """The import's time zone for naive times (an option; default the installation's)."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValidationError(f"'{name}' is not a time zone", [Problem("timezone", "unknown_timezone", name[:64])]) \
            from None


def _phone_region(code: str) -> str:
    """The import's region for phones typed without a country code (ISO 3166 code, e.g. CN, US)."""
    import phonenumbers

    region = str(code).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{code}' is not a phone region (an ISO country code such as CN or US)",
                              [Problem("phone_region", "unknown_region", str(code)[:16])])
    return region


def get_import(conn: Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute(select(import_jobs).where(import_jobs.c.id == job_id)).first()
    if row is None:
        raise NotFound(f"no import {job_id}", [Problem("import", "not_found", str(job_id))])
    return dict(row._mapping)


def list_imports(conn: Connection, object_name: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    query = select(import_jobs).order_by(import_jobs.c.id.desc()).limit(limit)
    if object_name:
        query = query.where(import_jobs.c.object == object_name)
    return [job_dict(r._mapping) for r in conn.execute(query)]


class _Ledger:
    """Row ranges of this object and file already committed (by any job)."""

    def __init__(self, conn: Connection, obj: str, digest: str) -> None:
        ranges = sorted(conn.execute(select(import_batches.c.first_row, import_batches.c.last_row,
                                            import_batches.c.job_id).where(
            import_batches.c.object == obj, import_batches.c.checksum == digest)).all())
        self.starts = [int(a) for a, _, _ in ranges]
        self.ends = [int(b) for _, b, _ in ranges]
        self.jobs = [int(j) for _, _, j in ranges]

    def job_of(self, number: int) -> int | None:
        """The job that committed this row, or None."""
        i = bisect.bisect_right(self.starts, number) - 1
        return self.jobs[i] if i >= 0 and number <= self.ends[i] else None


@dataclass
class _Run:
    services: Services
    job: dict[str, Any]
    sheet: Sheet
    mapper: RowMapper
    dedupe: list[DedupeDef]
    override: str | None
    started: float
    done_before: int
    who: Principal | None = None
    """The importer, reloaded for every batch (None: a CLI import, no scope)."""
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def timed(self, stage: str, since: float) -> float:
        """Add the time since `since` to `stage`; return now (the next stage's start)."""
        now = time.perf_counter()
        self.stages[stage] += now - since
        return now

    def batches(self, ledger: _Ledger, size: int) -> Iterator[tuple[list[tuple[int, list[Any]]], int]]:
        """(new rows, rows skipped as already imported) per batch."""
        batch: list[tuple[int, list[Any]]] = []
        skipped = 0
        done_up_to = int(self.job.get("last_row") or 0)
        started = time.perf_counter()
        for number, cells in self.sheet.rows():
            if number <= done_up_to:
                continue  # committed by this job before it was interrupted
            owner = ledger.job_of(number)
            if owner == self.job["id"]:
                continue
            if owner is not None:
                skipped += 1
            else:
                batch.append((number, cells))
            if len(batch) + skipped >= size:
                self.timed("read", started)
                yield batch, skipped
                started = time.perf_counter()
                batch, skipped = [], 0
        self.timed("read", started)
        if batch or skipped:
            yield batch, skipped


def _claim(conn: Connection, job: Mapping[str, Any]) -> bool:
    """Take the job for this run: pending, failed or stale running jobs only (duplicate queue entries are harmless)."""
    from .jobs import STALE_SECONDS

    cutoff = _now() - timedelta(seconds=STALE_SECONDS)
    claimable = or_(import_jobs.c.status.in_(("pending", "failed")),
                    and_(import_jobs.c.status == "running", import_jobs.c.updated_at < cutoff))
    return conn.execute(update(import_jobs).where(import_jobs.c.id == job["id"], claimable).values(
        status="running", started_at=job["started_at"] or _now(), error=None, updated_at=_now())).rowcount == 1


def importer(conn: Connection, job: Mapping[str, Any], obj: ObjectDef) -> Principal | None:
    """The job's creator as they are now (None for CLI imports); refuses if they may no longer write the mapping.

    Run before every batch, whoever resumes the job: a role changed mid-import takes effect at once.
    """
    if job["created_by"] is None:
        return None
    who = load_principal(conn, int(job["created_by"]))
    if who is None:
        raise PermissionDenied("the user who started this import is no longer active",
                               [Problem("import", "inactive_user", str(job["created_by"]))])
    perm = who.require(obj.name, "create")
    blocked = [f for f in [*job["mapping"].values(), *job["constants"]] if f and not perm.writable(f)]
    if blocked:
        raise PermissionDenied("you may not write some mapped fields",
                               [Problem(f"mapping/{f}", "readonly", "you may not write this field") for f in blocked])
    return who


def refuse_job(conn: Connection, job_id: int, error: str) -> None:
    """A job refused for permissions is final: it is never resumed (status `refused`)."""
    conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(
        status="refused", error=error[:2000], updated_at=_now()))


def run_import(services: Services, import_id: int, progress: Progress | None = None) -> dict[str, Any]:
    """Run (or resume) an import job to the end; the background job `imports.run` calls this."""
    with services.engine.begin() as conn:
        job = get_import(conn, import_id)
        if job["status"] == "refused":
            raise PermissionDenied("this import was refused and cannot be resumed; start a new one",
                                   [Problem("import", "refused", job["error"] or "")])
        if job["status"] == "done" or not _claim(conn, job):
            return job_dict(get_import(conn, import_id))
        snap = services.registry.current(conn)
        obj = snap.object(job["object"])
    options = job["options"]
    sheet = Sheet(Path(job["file_path"]), job["kind"], options["headers"], job["total_rows"],
                  encoding=job["encoding"], sheet_name=job["sheet"], first_row=options["first_row"])
    mapper = RowMapper(obj, sheet.headers, job["mapping"], job["constants"],
                       _zone(options.get("timezone") or services.settings.timezone), options.get("day_first"),
                       options.get("value_map") or {}, options.get("keep_field"), options.get("unmapped") or (),
                       options.get("phone_region") or services.records.ctx.default_region)
    override = options.get("on_duplicate")
    run = _Run(services, job, sheet, mapper, definitions_for(snap.definitions, obj.name), override,
               time.perf_counter(), job["rows_done"])
    resumed = (job.get("seconds") or {}).get("stages") or {}
    run.stages.update({k: float(v) for k, v in resumed.items() if k in run.stages})
    try:
        with reading(services.engine) as conn:
            ledger = _Ledger(conn, obj.name, "" if options.get("reimport") else job["checksum"])
        for batch, already in run.batches(ledger, int(options.get("batch_size") or BATCH_SIZE)):
            with services.engine.begin() as conn:
                run.who = importer(conn, job, obj)
                counts = _import_batch(run, conn, batch) if batch else dict.fromkeys(_COUNTERS, 0)
                writing = time.perf_counter()
                counts["already_imported"] = already
                state = _advance(run, conn, batch, counts, _written(conn, job_id=import_id, batch=batch))
            run.timed("insert", writing)  # the ledger, the job's progress and the commit
            if progress is not None:
                progress(state)
    except PermissionDenied as exc:
        with services.engine.begin() as conn:
            refuse_job(conn, import_id, f"refused: {exc}")
        raise
    except Exception as exc:
        with services.engine.begin() as conn:
            conn.execute(update(import_jobs).where(import_jobs.c.id == import_id).values(
                status="failed", error=f"{type(exc).__name__}: {exc}"[:2000], updated_at=_now()))
        raise
    with services.engine.begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.id == import_id).values(
            status="done", finished_at=_now(), updated_at=_now()))
        return job_dict(get_import(conn, import_id))


def _written(conn: Connection, job_id: int, batch: Sequence[tuple[int, list[Any]]]) -> list[tuple[int, int]]:
    """Runs (first, last row number) of this batch's rows that were written: created, merged or
    folded into a written row. Failed rows and rows skipped as duplicates are not, so the next
    import of the same file tries them again."""
    if not batch:
        return []
    numbers = [n for n, _ in batch]
    failed = {int(n) for (n,) in conn.execute(select(import_errors.c.row_number).where(
        import_errors.c.job_id == job_id, import_errors.c.row_number.between(numbers[0], numbers[-1])))}
    failed |= {int(n) for (n,) in conn.execute(select(import_outcomes.c.row_number).where(
        import_outcomes.c.job_id == job_id, import_outcomes.c.row_number.between(numbers[0], numbers[-1]),
        import_outcomes.c.action.in_(("skipped", "outside_access"))))}
    runs: list[tuple[int, int]] = []
    start: int | None = None
    last = 0
    for n in numbers:
        if n in failed:
            if start is not None:
                runs.append((start, last))
            start = None
        else:
            start = n if start is None else start
            last = n
    if start is not None:
        runs.append((start, last))
    return runs


def _advance(run: _Run, conn: Connection, batch: Sequence[tuple[int, list[Any]]],
             counts: Mapping[str, int], written: Sequence[tuple[int, int]] = ()) -> dict[str, Any]:
    job_id = run.job["id"]
    current = get_import(conn, job_id)
    processed = len(batch) + counts["already_imported"]
    elapsed = time.perf_counter() - run.started
    done = current["rows_done"] + processed
    values: dict[str, Any] = {k: current[k] + counts.get(k, 0) for k in _COUNTERS}
    values.update(rows_done=done, updated_at=_now(),
                  last_row=max([current["last_row"], *(n for n, _ in batch)]),
                  seconds={"elapsed": round(elapsed, 3),
                           "rate": round((done - run.done_before) / elapsed, 1) if elapsed > 0 else None,
                           "stages": {k: round(v, 3) for k, v in run.stages.items()}})
    if run.mapper.time_dropped:  # dates given with a time of day: the import says the time was dropped
        headers = {f: h for h, f in reversed(list(run.mapper.mapping.items())) if f}
        notes = time_dropped_notes(run.mapper.time_dropped, headers, current["options"].get("notes") or ())
        values["options"] = {**current["options"], "notes": notes}
        run.mapper.time_dropped.clear()
    for first, last in written:  # a forced re-import writes rows the ledger already had
        conn.execute(delete(import_batches).where(import_batches.c.object == run.job["object"],
                                                  import_batches.c.checksum == run.job["checksum"],
                                                  import_batches.c.first_row == first))
        conn.execute(import_batches.insert().values(object=run.job["object"], checksum=run.job["checksum"],
                                                    first_row=first, last_row=last, job_id=job_id, at=_now()))
    conn.execute(update(import_jobs).where(import_jobs.c.id == job_id).values(**values))
    return job_dict({**current, **values})


def _import_batch(run: _Run, conn: Connection, batch: Sequence[tuple[int, list[Any]]]) -> dict[str, int]:
    services, obj, job_id = run.services, run.mapper.obj, run.job["id"]
    started = time.perf_counter()
    snap = services.registry.current(conn)
    inputs: list[dict[str, Any] | None] = []
    problems: dict[int, list[Problem]] = {}
    for i, (_, cells) in enumerate(batch):
        data, cell_problems = run.mapper.inputs(cells)
        inputs.append(data)
        if cell_problems:  # every problem of the row in one pass: the cells' and the record's
            bad = {p.field for p in cell_problems}
            _, more = obj.prepare(data, False, services.records.ctx)
            problems[i] = cell_problems + [p for p in more if p.field not in bad]
    run.mapper.resolve_relations(conn, snap, inputs, problems, run.who)
    started = run.timed("normalise", started)
    outcomes: dict[int, tuple[str, int | None, dict[str, Any]]] = {}
    flags: list[tuple[int, Hit]] = []
    fold_into: dict[int, int] = {}
    prepared: dict[int, dict[str, Any]] = {}
    for i, data in enumerate(inputs):  # invalid rows fail here, before they can be anyone's duplicate
        if i in problems or data is None:
            continue
        values, row_problems = obj.prepare(data, False, services.records.ctx)
        if row_problems:
            problems[i] = row_problems
        else:
            prepared[i] = values
    started = run.timed("validate", started)
    for dd in run.dedupe:
        stored: list[dict[str, Any] | None] = [
            None if i in outcomes or i in fold_into else prepared.get(i) for i in range(len(inputs))]
        hits = find_duplicates(conn, snap, dd, stored, "import")
        hidden = _outside_access(run, conn, snap.tables[obj.name], hits)
        for i, hit in sorted(hits.items()):
            action = run.override or hit.action
            if action == "none":
                continue
            if hit.record_id is not None and hit.record_id in hidden.get(action, ()):
                if run.job["options"].get("outside_scope") != "import":
                    outcomes[i] = ("outside_access", None, {"rule": hit.rule.name, "definition": dd.name,
                                                            "message": "exists outside your access"})
                continue
            target_row = hit.row
            while target_row is not None and target_row in fold_into:
                target_row = fold_into[target_row]
            record_id = hit.record_id
            if target_row is not None and target_row in outcomes:
                record_id, target_row = outcomes[target_row][1], None
            detail = {"rule": hit.rule.name, "score": hit.score, "definition": dd.name}
            if action == "skip":
                carried = {k: v for k, v in (inputs[i] or {}).items() if v not in (None, "", [])}
                outcomes[i] = ("skipped", record_id, {**detail, "row": _row_no(batch, target_row),
                                                      "carried": carried})
                if record_id is None and target_row is not None:
                    fold_into[i] = target_row
                    base = inputs[target_row] or {}  # the kept row takes what it lacks
                    filled = [k for k, v in carried.items() if base.get(k) in (None, "", [])]
                    inputs[target_row] = {**base, **{k: carried[k] for k in filled}}
                    outcomes[i][2]["filled"] = filled
            elif action == "merge" and record_id is not None:
                row_values = stored[i] or {}
                shown = obj.shown({n: row_values.get(n) for n in obj.fields})
                merge = merge_records(services, conn, dd, record_id, [], actor_id=run.job["created_by"],
                                      source="import", note=f"import {job_id} row {batch[i][0]}",
                                      incoming={k: v for k, v in shown.items() if k in row_values})
                outcomes[i] = ("merged", record_id, {**detail, "merge_id": merge["id"]})
            elif action == "merge" and target_row is not None:
                base = inputs[target_row] or {}
                inputs[target_row] = {**base, **merged_values(dd, obj, {**base, "updated_at": ""},
                                                              [{**(inputs[i] or {}), "updated_at": "z"}])}
                fold_into[i] = target_row
                outcomes[i] = ("merged", None, {**detail, "row": batch[target_row][0]})
            elif action == "flag":
                flags.append((i, hit))
    started = run.timed("dedupe", started)
    to_create = [i for i in range(len(batch)) if i not in problems and i not in outcomes]
    with dedupe_handled():
        result = services.records.bulk_create(obj.name, [inputs[i] or {} for i in to_create],
                                              actor_id=run.job["created_by"], conn=conn, skip_invalid=True)
    ids: dict[int, int] = {}
    for k, i in enumerate(to_create):
        rid = result.ids[k]
        if rid is None:
            problems[i] = result.errors.get(k, [])
        else:
            ids[i] = rid
    _retry_folded(run, conn, batch, inputs, problems, outcomes, fold_into, ids)
    for i, target in fold_into.items():  # rows folded into (or skipped for) an earlier row of this batch
        kind, _, detail = outcomes[i]
        outcomes[i] = (kind, ids.get(target), detail)
    pairs = PairSet()
    for i, hit in flags:
        other = hit.record_id if hit.record_id is not None else ids.get(hit.row) if hit.row is not None else None
        if i in ids and other is not None:
            pairs.add(ids[i], other, hit.score, hit.rule)
            outcomes[i] = ("flagged", ids[i], {"rule": hit.rule.name, "score": hit.score, "other": other})
    add_candidates(conn, obj.name, pairs, "import")
    _write_rows(conn, job_id, batch, problems, outcomes)
    run.timed("insert", started)
    flagged = sum(1 for o in outcomes.values() if o[0] == "flagged")
    return {"created": len(ids), "failed": len(problems), "flagged": flagged,
            "skipped": sum(1 for o in outcomes.values() if o[0] in ("skipped", "outside_access")),
            "merged": sum(1 for o in outcomes.values() if o[0] == "merged")}


def _retry_folded(run: _Run, conn: Connection, batch: Sequence[tuple[int, list[Any]]], inputs: list[dict[str, Any] | None], problems: dict[int, list[Problem]],
                  outcomes: dict[int, tuple[str, int | None, dict[str, Any]]], fold_into: dict[int, int],
                  ids: dict[int, int]) -> None:
    """Rows folded into a row of the file that then failed are never left pointing at it: the first
    of them is created itself, the others now point at that one."""
    stranded: dict[int, list[int]] = {}
    for i, target in sorted(fold_into.items()):
        if target in problems:
            stranded.setdefault(target, []).append(i)
    if not stranded:
        return
    firsts = [rows[0] for rows in stranded.values()]
    with dedupe_handled():
        result = run.services.records.bulk_create(run.mapper.obj.name, [inputs[i] or {} for i in firsts],
                                                  actor_id=run.job["created_by"], conn=conn, skip_invalid=True)
    for k, (first, rows) in enumerate(zip(firsts, stranded.values(), strict=True)):
        del fold_into[first]
        outcomes.pop(first, None)
        rid = result.ids[k]
        if rid is None:
            problems[first] = result.errors.get(k, [])
        else:
            ids[first] = rid
        for i in rows[1:]:
            fold_into[i] = first
            outcomes[i][2]["row"] = None if rid is None else batch[first][0]


def _outside_access(run: _Run, conn: Connection, table: Any, hits: Mapping[int, Hit]) -> dict[str, set[int]]:
    """Per action, the matched records the importer may not act on: merge needs update in scope, skip/flag read."""
    who = run.who
    ids = sorted({h.record_id for h in hits.values() if h.record_id is not None})
    if who is None or not ids:
        return {}
    name = run.mapper.obj.name
    perm = who.permission(name)
    owners = dict(conn.execute(select(table.c.id, table.c.owner_id).where(table.c.id.in_(ids))).all()) \
        if "owner_id" in table.c else dict.fromkeys(ids)
    unreadable = {i for i in ids if not who.sees_owner(name, owners.get(i))}
    unwritable = unreadable | ({i for i in ids if not who.may_own(name, owners.get(i))} if perm.update else set(ids))
    return {"skip": unreadable, "flag": unreadable, "merge": unwritable}


def _row_no(batch: Sequence[tuple[int, list[Any]]], index: int | None) -> int | None:
    return None if index is None else batch[index][0]


def _write_rows(conn: Connection, job_id: int, batch: Sequence[tuple[int, list[Any]]],
                problems: Mapping[int, list[Problem]], outcomes: Mapping[int, tuple[str, int | None, dict[str, Any]]]
                ) -> None:
    insert_many(conn, import_errors, [
        {"job_id": job_id, "row_number": batch[i][0], "cells": [json_cell(c) for c in batch[i][1]],
         "problems": [p.to_dict() for p in ps]} for i, ps in sorted(problems.items())])
    insert_many(conn, import_outcomes, [
        {"job_id": job_id, "row_number": batch[i][0], "action": kind, "record_id": rid, "detail": detail}
        for i, (kind, rid, detail) in sorted(outcomes.items())])


def error_rows(conn: Connection, job_id: int, limit: int | None = None) -> list[dict[str, Any]]:
    query = select(import_errors).where(import_errors.c.job_id == job_id).order_by(import_errors.c.row_number)
    if limit:
        query = query.limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def outcome_rows(conn: Connection, job_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    query = (select(import_outcomes).where(import_outcomes.c.job_id == job_id)
             .order_by(import_outcomes.c.row_number).limit(limit))
    return [dict(r._mapping) for r in conn.execute(query)]
