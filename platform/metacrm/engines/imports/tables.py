"""System tables of imports: templates, jobs with their progress, the committed-batch ledger, error rows.

The ledger is what makes imports idempotent and resumable: each committed batch writes one row
(object, file checksum, first and last row number) in the same transaction as its records, so a
re-run of the same file skips rows already taken, and a crashed job restarts after its last
committed batch. Error rows keep the original cells, so they can be downloaded, fixed and
imported again.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from ...meta.sqltypes import JSONType, UTCDateTime
from ...store.system import ID, metadata

import_templates = Table(
    "sys_import_template", metadata,
    Column("name", String(64), primary_key=True),
    Column("object", String(64), nullable=False),
    Column("label", String(200), nullable=True),
    Column("mapping", JSONType, nullable=False),
    Column("constants", JSONType, nullable=False),
    Column("value_map", JSONType, nullable=True),  # {field: {source value: option}}
    Column("created_by", BigInteger, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

import_jobs = Table(
    "sys_import_job", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("file_path", Text, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("encoding", String(32), nullable=True),
    Column("sheet", String(255), nullable=True),
    Column("mapping", JSONType, nullable=False),
    Column("constants", JSONType, nullable=False),
    Column("template", String(64), nullable=True),
    Column("options", JSONType, nullable=False),
    # pending | running | done | failed
    Column("status", String(16), nullable=False),
    Column("total_rows", Integer, nullable=False, default=0),
    Column("rows_done", Integer, nullable=False, default=0),
    Column("created", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("merged", Integer, nullable=False, default=0),
    Column("flagged", Integer, nullable=False, default=0),
    Column("already_imported", Integer, nullable=False, default=0),
    Column("last_row", Integer, nullable=False, default=0),
    Column("seconds", JSONType, nullable=True),
    Column("error", Text, nullable=True),
    Column("created_by", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_sys_import_job_checksum", "object", "checksum"),
)

import_batches = Table(
    "sys_import_batch", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("first_row", Integer, nullable=False),
    Column("last_row", Integer, nullable=False),
    Column("job_id", BigInteger, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    UniqueConstraint("object", "checksum", "first_row", name="uq_sys_import_batch_rows"),
)

import_errors = Table(
    "sys_import_error", metadata,
    Column("job_id", BigInteger, primary_key=True),
    Column("row_number", Integer, primary_key=True),
    Column("cells", JSONType, nullable=False),
    Column("problems", JSONType, nullable=False),
)

import_outcomes = Table(
    "sys_import_outcome", metadata,
    Column("job_id", BigInteger, primary_key=True),
    Column("row_number", Integer, primary_key=True),
    # skipped | merged | flagged: what dedupe did with a row (created rows need no note)
    Column("action", String(16), nullable=False),
    Column("record_id", BigInteger, nullable=True),
    Column("detail", JSONType, nullable=True),
)
