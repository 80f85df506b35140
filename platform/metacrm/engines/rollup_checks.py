"""The nightly roll-up verifier: every roll-up against a set-based full recompute, drift fixed.

Runs on the daily maintenance pass (flows/schedules.py); `metacrm rollup verify` is the same by
hand. Drift means a write reached a child table behind the record service (a DBA's UPDATE, a
restore from backup): it is fixed, logged as a warning, and every administrator gets a
notification (one per object field per day).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..flows.jobs import job
from ..flows.schedules import on_maintenance
from ..flows.tables import notifications
from ..store import rollups
from ..store.services import Services
from ..store.system import users

log = logging.getLogger(__name__)


@job("rollups.verify")
def verify_all(services: Services, fired_at: str | None = None, **_: Any) -> dict[str, int]:
    """{object.field: values fixed} for every roll-up that drifted."""
    snap = services.registry.current()
    drifted: dict[str, int] = {}
    for obj in sorted(snap.objects):
        for r in rollups.rollups_of(snap, obj):
            with services.engine.begin() as conn:
                found = rollups.verify(conn, snap, r, fix=True)
            if found:
                drifted[f"{obj}.{r.name}"] = len(found)
    if drifted:
        log.warning("roll-up drift fixed: %s", drifted)
        now = datetime.now(UTC)
        with services.engine.begin() as conn:
            admins = list(conn.execute(select(users.c.id).where(users.c.is_admin.is_(True), users.c.active.is_(True)))
                          .scalars())
            for target, n in drifted.items():
                for uid in admins:
                    key = f"rollup-drift:{target}:{now:%Y%m%d}:{uid}"
                    if conn.execute(select(notifications.c.id).where(notifications.c.key == key)).first() is None:
                        conn.execute(notifications.insert().values(
                            user_id=uid, title=f"Roll-up {target}: {n} value(s) had drifted and were fixed"[:300],
                            body="A write reached the child records behind the record service; "
                                 "`metacrm rollup verify` shows the details.", key=key, created_at=now))
    return drifted


on_maintenance("rollups.verify")
