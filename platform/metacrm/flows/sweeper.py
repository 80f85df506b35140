"""The sweeper: what makes "nothing lost" true when Redis or a worker loses work.

Every couple of seconds, in every worker process (and the in-process thread), it hands to the
queue: steps that are due and were never enqueued (waits, retries after backoff), steps enqueued
longer ago than the job lease and still not taken (their job was lost), and steps whose worker's
lease ran out (the worker was killed mid-step). When the transport says it lost jobs (Redis came
back empty: flushed, restarted without persistence, replaced; or an enqueue of this process
failed), every due ready step is handed out at once rather than a lease later. It also fires
due schedules (workflow schedules and the daily maintenance pass, schedules.py) and retries
pending message deliveries. Handing a step out twice is harmless: a
step is claimed with a conditional update, so only one worker runs it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update

from .jobs import enqueue_many, job, jobs_lost, periodic
from .runs import DISPATCH_CHUNK, RUN_STEPS_JOB, utcnow
from .sendrate import room
from .tables import StepStatus, outbox, steps

if TYPE_CHECKING:
    from ..store.services import Services

BATCH = 5000


def _lost_or_due(now: datetime, stale: datetime) -> object:
    s = steps.c
    return or_(and_(s.status == StepStatus.READY, s.due_at <= now,
                    or_(s.enqueued_at.is_(None), s.enqueued_at < stale)),
               and_(s.status == StepStatus.RUNNING, s.lease_until < now))


def sweep_steps(services: Services, now: datetime | None = None, stale_after: float | None = None) -> int:
    """Enqueue due, lost and abandoned steps; return how many.

    A ready step counts as lost once it was enqueued longer than the job lease ago
    (`stale_after` seconds; 0 on recovery: every due step).
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=services.settings.job_lease_seconds if stale_after is None else stale_after)
    with services.engine.begin() as conn:
        # FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite has one writer anyway): sweepers running at once
        # each take rows no other sweeper holds, so one wait is never handed out by two of them.
        candidates = (select(steps.c.id).where(_lost_or_due(now, stale)).order_by(steps.c.due_at).limit(BATCH)
                      .with_for_update(skip_locked=True))
        ids = [int(i) for i in conn.execute(
            update(steps).where(steps.c.id.in_(candidates.scalar_subquery()), _lost_or_due(now, stale))
            .values(enqueued_at=now).returning(steps.c.id)).scalars()]
    if ids:
        ids.sort()
        enqueue_many(services, RUN_STEPS_JOB, [{"step_ids": ids[i:i + DISPATCH_CHUNK]}
                                               for i in range(0, len(ids), DISPATCH_CHUNK)])
    return len(ids)


def sweep_deliveries(services: Services, now: datetime | None = None) -> int:
    """Enqueue message deliveries that are due (first tries lost, retries after backoff, deferrals).

    The delivery job claims a message by moving its `next_at` on, so a message handed out twice
    is still sent by one job only. A rate-limited channel gets no more jobs than its current
    window has room for, so a backlog of thousands is not handed out (and deferred) every round.
    """
    now = now or utcnow()
    rates = {channel: (count, seconds) for channel, count, seconds in services.settings.send_rates}
    due = select(outbox.c.id).where(outbox.c.status == "pending", outbox.c.next_at <= now).order_by(outbox.c.id)
    with services.engine.connect() as conn:
        ids = [int(i) for i in conn.execute(due.where(outbox.c.channel.not_in(rates)).limit(BATCH)).scalars()]
        for channel, rate in rates.items():
            if (left := min(room(conn, channel, rate, now), BATCH)) > 0:
                ids += [int(i) for i in conn.execute(due.where(outbox.c.channel == channel).limit(left)).scalars()]
    if ids:
        enqueue_many(services, "workflows.deliver", [{"message_id": i} for i in ids])
    return len(ids)


@periodic("workflows.sweep", every=2.0)
def sweep(services: Services, now: datetime | None = None) -> int:
    """One round of housekeeping; returns how much work it handed out."""
    from .schedules import fire_due_schedules

    found = fire_due_schedules(services, now)
    found += sweep_steps(services, now, stale_after=0 if jobs_lost(services) else None)
    found += sweep_deliveries(services, now)
    return found


@job("workflows.recover")
def recover(services: Services) -> None:
    """At the start of an in-process executor: every due step was lost with the previous process."""
    sweep_steps(services, stale_after=0)
    sweep_deliveries(services)


@job("workflows.sweep_now")
def sweep_now(services: Services) -> None:
    sweep(services)
