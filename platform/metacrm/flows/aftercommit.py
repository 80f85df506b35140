"""Jobs that must be enqueued only once the transaction that created their work has committed.

A trigger writes its run and first step inside the record write's transaction (the outbox);
telling a worker about it before that commits would let the worker look too early. So writers
call `later(conn, job, kwargs)`; when the connection commits and goes back to the pool the calls
are enqueued in one batch per job; a rollback drops them. Losing them (a crash right after the
commit, Redis down) loses nothing: the rows are in SQL and the sweeper enqueues them again.
"""

from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, event

from ..errors import MetaCRMError
from .jobs import enqueue_many

if TYPE_CHECKING:
    from ..store.services import Services

log = logging.getLogger(__name__)

PENDING = "metacrm.after_commit.pending"
COMMITTED = "metacrm.after_commit.committed"
_installed: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def later(conn: Connection, job: str, **kwargs: Any) -> None:
    """Enqueue `job(**kwargs)` after `conn`'s transaction commits."""
    conn.info.setdefault(PENDING, []).append((job, kwargs))


def _on_commit(conn: Connection) -> None:
    pending = conn.info.pop(PENDING, None)
    if pending:
        conn.info.setdefault(COMMITTED, []).extend(pending)


def _on_rollback(conn: Connection) -> None:
    conn.info.pop(PENDING, None)


def flush(services: Services, info: dict[Any, Any]) -> int:
    """Enqueue what committed on a connection (grouped by job); return how many calls."""
    committed = info.pop(COMMITTED, None)
    if not committed:
        return 0
    by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job, kwargs in committed:
        by_job[job].append(kwargs)
    for job, calls in by_job.items():
        try:
            enqueue_many(services, job, calls)
        except MetaCRMError as exc:  # Redis down: the sweeper picks the work up from SQL later
            log.warning("could not enqueue %d %s job(s) after commit: %s", len(calls), job, exc.message)
    return len(committed)


def install(services: Services) -> None:
    """Hook these services' engine: commit marks, rollback drops, check-in enqueues."""
    engine = services.engine
    if engine in _installed:
        return
    _installed[engine] = True
    ref = weakref.ref(services)
    event.listen(engine, "commit", _on_commit)
    event.listen(engine, "rollback", _on_rollback)

    def on_checkin(dbapi_connection: Any, record: Any) -> None:
        svc = ref()
        if svc is not None and record is not None and COMMITTED in record.info:
            flush(svc, record.info)

    event.listen(engine.pool, "checkin", on_checkin)
