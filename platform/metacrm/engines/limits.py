"""The limits ledger's housekeeping in every worker and the embedded executor.

The ledger itself is store/limits.py (below the engines, so every engine moves counters in its
record's transaction); here its sweeper becomes a periodic task: reservations past their TTL are
expired every few seconds by whichever process gets to them first (SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

from ..flows.jobs import periodic
from ..store import limits
from ..store.services import Services

SWEEP_EVERY = 5.0


@periodic("limits.sweep", every=SWEEP_EVERY)
def sweep(services: Services) -> int:
    """Expire held reservations past their TTL, in batches, until none is due."""
    total = 0
    while True:
        with services.engine.begin() as conn:
            done = limits.sweep(conn)
        total += done
        if done < 1000:
            return total
