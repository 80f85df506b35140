"""Long exports as background jobs: the existing export engine (exports.py) on the job machinery
(flows/jobs.py), with progress a user can poll and a file only its owner downloads.

The job re-reads its owner's permissions when it runs (load_principal): the data scope and hidden
fields apply as of the run, through the same `row_filter` the list uses. The API validated the
rule (fields the owner may see, valid shape) before it queued the job. Files live under
`<instance>/exports/`; the row in sys_export_job is the state (the transport may lose the job:
a pending export older than the lease is queued again by the periodic sweep).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Index, Integer, String, Table, Text, func, select, update

from ..auth.principal import load_principal
from ..errors import MetaCRMError, NotFound, Problem
from ..flows.jobs import enqueue, job, periodic
from ..meta.sqltypes import JSONType, UTCDateTime
from ..rules import to_sql
from ..store.system import ID, metadata
from .exports import FORMATS, export_records

if TYPE_CHECKING:
    from ..store.services import Services

export_jobs = Table(
    "sys_export_job", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("owner_id", ID, nullable=False),
    Column("object", String(64), nullable=False),
    Column("format", String(8), nullable=False),
    Column("request", JSONType, nullable=True),  # {"rule", "columns", "language"}
    Column("status", String(16), nullable=False),  # pending | running | done | failed
    Column("rows_done", Integer, nullable=False, default=0),
    Column("rows_total", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_sys_export_job_owner", "owner_id", "id"),
)

STATUSES = ("pending", "running", "done", "failed")
REQUEUE_AFTER = timedelta(minutes=5)


def export_dir(services: Services) -> Path:
    path = Path(services.settings.instance_dir) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_path(services: Services, row: Any) -> Path:
    return export_dir(services) / f"export-{int(row.id)}.{row.format}"


def shape(row: Any) -> dict[str, Any]:
    return {"id": int(row.id), "object": row.object, "format": row.format, "status": row.status,
            "rows_done": int(row.rows_done or 0), "rows_total": row.rows_total, "error": row.error}


def start_export(services: Services, owner_id: int, object_name: str, fmt: str, rule: Any,
                 columns: list[str] | None, language: str,
                 sort: list[list[Any]] | None = None) -> dict[str, Any]:
    """`sort`: [[column, descending], ...] as api.listing.parse_sort checked it (None: by id)."""
    now = datetime.now(UTC)
    with services.engine.begin() as conn:
        export_id = int(conn.execute(export_jobs.insert().values(
            owner_id=owner_id, object=object_name, format=fmt, status="pending", rows_done=0,
            request={"rule": rule, "columns": columns, "language": language, "sort": sort}, created_at=now, updated_at=now)
            .returning(export_jobs.c.id)).scalar_one())
    enqueue(services, "exports.run", export_id=export_id)
    return get_export(services, export_id, owner_id)


def get_export(services: Services, export_id: int, owner_id: int) -> dict[str, Any]:
    return shape(_owned(services, export_id, owner_id))


def _owned(services: Services, export_id: int, owner_id: int) -> Any:
    """The export if `owner_id` started it (anyone else: 404, no hint that it exists)."""
    with services.engine.connect() as conn:
        row = conn.execute(select(export_jobs).where(export_jobs.c.id == export_id)).first()
    if row is None or int(row.owner_id) != owner_id:
        raise NotFound(f"export {export_id} does not exist", [Problem("id", "not_found", str(export_id))])
    return row


def finished_file(services: Services, export_id: int, owner_id: int) -> tuple[Path, Any]:
    row = _owned(services, export_id, owner_id)
    path = file_path(services, row)
    if row.status != "done" or not path.exists():
        raise NotFound(f"export {export_id} has no file (status {row.status})",
                       [Problem("id", "not_ready", row.status)])
    return path, row


def _set(services: Services, export_id: int, **values: Any) -> None:
    with services.engine.begin() as conn:
        conn.execute(update(export_jobs).where(export_jobs.c.id == export_id)
                     .values(**values, updated_at=datetime.now(UTC)))


@job("exports.run")
def run_export(services: Services, export_id: int) -> None:
    with services.engine.begin() as conn:
        claimed = conn.execute(update(export_jobs).where(export_jobs.c.id == export_id,
                                                         export_jobs.c.status == "pending")
                               .values(status="running", updated_at=datetime.now(UTC))
                               .returning(export_jobs)).first()
        who = load_principal(conn, int(claimed.owner_id)) if claimed is not None else None
    if claimed is None:
        return  # done, failed, or another worker has it
    path = file_path(services, claimed)
    try:
        if who is None or not who.permission(claimed.object).read:
            raise MetaCRMError("the owner may no longer read these records",
                               [Problem("object", "forbidden", claimed.object)])
        request = claimed.request or {}
        snap = services.registry.current()
        obj = snap.object(claimed.object)
        table = snap.tables[obj.name]
        perm = who.permission(obj.name)
        where = [c for c in [who.row_filter(obj.name, table)] if c is not None]

        def scope(name: str) -> Any:
            t = snap.tables.get(name)
            return None if t is None else who.row_filter(name, t)

        if request.get("rule"):
            where.append(to_sql(request["rule"], obj.name, snap, tz=services.settings.timezone, row_filter=scope))
        with services.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(table)
                                     .where(table.c.deleted_at.is_(None), *where)).scalar_one())
        _set(services, export_id, rows_total=total)
        with path.open("wb") as out:
            count = export_records(services, obj.name, out, claimed.format, fields=request.get("columns"),
                                   language=request.get("language") or who.language, hidden_fields=perm.hidden,
                                   where=where, row_filter=scope, hidden_of=lambda name: who.permission(name).hidden,
                                   sort=_sort_keys(request.get("sort"), table, perm),
                                   progress=lambda n: _set(services, export_id, rows_done=n))
        _set(services, export_id, status="done", rows_done=count, rows_total=count)
    except Exception as exc:  # the export failed: say why, keep no half file
        path.unlink(missing_ok=True)
        _set(services, export_id, status="failed", error=str(exc)[:1000])
        if not isinstance(exc, MetaCRMError):
            raise


def _sort_keys(stored: Any, table: Any, perm: Any) -> tuple[tuple[str, bool], ...]:
    """The stored sort, less any column hidden from the owner or gone since it was asked for."""
    keys = [(str(k[0]), bool(k[1])) for k in stored or () if isinstance(k, list | tuple) and len(k) == 2]
    return tuple((name, desc) for name, desc in keys if name in table.c and name not in perm.hidden)


@periodic("exports.sweep", every=60)
def requeue_lost(services: Services) -> int:
    """Pending exports whose job the transport lost are queued again (running ones are left alone)."""
    stale = datetime.now(UTC) - REQUEUE_AFTER
    with services.engine.connect() as conn:
        ids = [int(i) for i in conn.execute(select(export_jobs.c.id).where(
            export_jobs.c.status == "pending", export_jobs.c.updated_at < stale).limit(100)).scalars()]
    for export_id in ids:
        _set(services, export_id)
        enqueue(services, "exports.run", export_id=export_id)
    return len(ids)


__all__ = ["FORMATS", "STATUSES", "export_jobs", "finished_file", "get_export", "run_export", "start_export"]
