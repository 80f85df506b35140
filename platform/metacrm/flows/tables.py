"""The workflow engine's system tables: runs, step executions, effects, notifications, outbox.

SQL is the source of truth for workflow work; Redis only carries "look at step N now". A step
row is `ready` (runnable once `due_at` has passed), `running` (held by a worker until
`lease_until`), or finished (`done`, `failed`, `cancelled`). `attempts` is the fencing token: a
worker may only finish the step at the attempt it claimed, so a worker that lost its lease
cannot commit over the one that took over.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from ..meta.sqltypes import JSONType, UTCDateTime
from ..store.system import ID, metadata


class RunStatus:
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXITED = "exited"
    # Left quietly before its end; `outcome` says why: record_deleted, goal_reached, workflow_disabled.
    OPEN = (RUNNING, WAITING)
    ALL = (RUNNING, WAITING, COMPLETED, FAILED, CANCELLED, EXITED)


class StepStatus:
    READY = "ready"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OPEN = (READY, RUNNING)


runs = Table(
    "wf_run", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("workflow", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=True),
    Column("status", String(16), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("key", String(200), nullable=True, unique=True),
    # Idempotency key of the start (schedule fire, manual start with a key): one run per key.
    Column("depth", Integer, nullable=False, default=0),
    Column("parent_run_id", BigInteger, nullable=True),
    Column("context", JSONType, nullable=True),
    Column("error", JSONType, nullable=True),
    Column("steps_done", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("outcome", String(32), nullable=True),
    # Why an exited or closed run ended that way (record_deleted, goal_reached, workflow_disabled, closed).
    Column("rerun_of", BigInteger, nullable=True),
    # The run this one re-runs or retries (a new linked run), if any.
    Index("ix_wf_run_status", "status", "id"),
    Index("ix_wf_run_record", "object", "record_id", "workflow"),
    Index("ix_wf_run_workflow", "workflow", "id"),
)

steps = Table(
    "wf_step", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("run_id", BigInteger, nullable=False),
    Column("step", String(64), nullable=False),
    Column("type", String(32), nullable=False),
    Column("seq", Integer, nullable=False, default=0),
    # How many times this step ran before in this run (loops through a wait); part of the key.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("enqueued_at", UTCDateTime(), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("output", JSONType, nullable=True),
    Column("error", JSONType, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("wait_step", String(64), nullable=True),
    # The wait step whose record date field sets this row's due_at: re-checked at wake, moved when
    # the field changes (steps/wait.py).
    UniqueConstraint("run_id", "step", "seq", name="uq_wf_step_key"),
    Index("ix_wf_step_open", "status", "due_at"),
)

effects = Table(
    "wf_effect", metadata,
    Column("key", String(200), primary_key=True),
    # `run-<run>-<step>-<seq>`: the same for every attempt of one step execution.
    Column("run_id", BigInteger, nullable=False),
    Column("result", JSONType, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

notifications = Table(
    "wf_notification", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("object", String(64), nullable=True),
    Column("record_id", BigInteger, nullable=True),
    Column("run_id", BigInteger, nullable=True),
    Column("key", String(200), nullable=True, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime(), nullable=True),
    Index("ix_wf_notification_user", "user_id", "id"),
)

outbox = Table(
    "wf_outbox", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),
    Column("adapter", String(32), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=True),
    Column("body", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False),
    # `stored` (the default adapter keeps it here), `pending`, `sent` or `failed`.
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("object", String(64), nullable=True),
    Column("record_id", BigInteger, nullable=True),
    Column("run_id", BigInteger, nullable=True),
    Column("key", String(200), nullable=True, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_at", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Index("ix_wf_outbox_status", "status", "id"),
)

counters = Table(
    "wf_counter", metadata,
    Column("key", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

schedules = Table(
    "wf_schedule", metadata,
    Column("workflow", String(64), primary_key=True),
    Column("cron", String(100), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("next_at", UTCDateTime(), nullable=False),
    Column("last_at", UTCDateTime(), nullable=True),
    # Naive local wall-clock slots (`YYYY-MM-DDTHH:MM`): a fire's identity (schedules.py, the DST rule).
    Column("slot", String(20), nullable=True),
    Column("last_slot", String(20), nullable=True),
)

schedule_fires = Table(
    "wf_schedule_fire", metadata,
    # One row per fire of a scheduled workflow (its local slot): the records are enrolled in batches
    # from `after_id` on, each batch with its runs in one transaction, so a crash resumes (enrollment.py).
    Column("workflow", String(64), primary_key=True),
    Column("slot", String(20), primary_key=True),
    Column("fired_at", UTCDateTime(), nullable=False),
    Column("after_id", BigInteger, nullable=False),
    Column("started", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("done_at", UTCDateTime(), nullable=True),
    Index("ix_wf_schedule_fire_open", "done_at"),
)

drafts = Table(
    "wf_draft", metadata,
    Column("workflow", String(64), primary_key=True),
    # The builder's working copy, kept apart from the published versions (sys_definition_version).
    Column("body", JSONType, nullable=False),
    Column("base_version", Integer, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", BigInteger, nullable=True),
)

suppressions = Table(
    "wf_suppression", metadata,
    # Addresses no workflow message goes to (flows/consent.py): unsubscribes, bounces, complaints.
    Column("channel", String(16), primary_key=True),
    Column("address", String(320), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("detail", String(300), nullable=True),  # the provider's words for a bounce or complaint
)
