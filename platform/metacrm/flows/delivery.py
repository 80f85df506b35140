"""Delivering outbox messages through their channel's adapter, with retries and backoff.

A temporary failure (network, 4xx) is retried up to MAX_ATTEMPTS with exponential backoff; a
permanent one (an adapter's `DeliveryError(permanent=True)`, e.g. SMTP 5xx) fails the message at
once, so a bad address costs one attempt, not a retry storm. The outbox row keeps the last error.
A failure the adapter marks as a bounce or complaint also puts the address on the suppression
list (bounces.py), in the same transaction as the message's fail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from .channels import DeliveryError, Message, adapter_for
from .consent import suppress
from .jobs import job
from .runs import utcnow
from .sendrate import rate_for, take_slot
from .tables import outbox

if TYPE_CHECKING:
    from ..store.services import Services

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 5.0


@job("workflows.deliver")
def deliver(services: Services, message_id: int, now: datetime | None = None) -> None:
    """Send one pending message (claimed first, so a message handed out twice goes out once).

    `now` fixes the clock (tests); over the channel's send rate the message waits, pending, for
    the next window, without counting an attempt.
    """
    clock = (lambda: now) if now is not None else utcnow
    started = clock()
    lease = started + timedelta(seconds=services.settings.job_lease_seconds)
    with services.engine.begin() as conn:
        claimed = conn.execute(update(outbox).where(
            outbox.c.id == message_id, outbox.c.status == "pending", outbox.c.next_at <= started)
            .values(next_at=lease, attempts=outbox.c.attempts + 1))
        if claimed.rowcount != 1:
            return
        row = conn.execute(select(outbox).where(outbox.c.id == message_id)).one()
        rate = rate_for(services.settings, row.channel)
        opens = take_slot(conn, row.channel, rate, started) if rate else None
        if opens is not None:
            conn.execute(update(outbox).where(outbox.c.id == message_id)
                         .values(next_at=opens, attempts=row.attempts - 1))
            return
    adapter = adapter_for(services.settings, row.channel)
    values: dict[str, object]
    bounce: DeliveryError | None = None
    if adapter is None:
        values = {"status": "stored", "next_at": None}
    else:
        try:
            adapter.send(Message(row.id, row.channel, row.recipient, row.subject, row.body, row.key or f"msg-{row.id}"))
            values = {"status": "sent", "sent_at": clock(), "next_at": None, "error": None}
        except Exception as exc:  # any adapter failure: retry later, then give up with the error kept
            permanent = isinstance(exc, DeliveryError) and exc.permanent
            bounce = exc if isinstance(exc, DeliveryError) and exc.bounce else None
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            log.warning("delivering message %s failed%s: %s", message_id, " for good" if permanent else "", error)
            failed = permanent or row.attempts >= MAX_ATTEMPTS
            values = {"status": "failed" if failed else "pending", "error": error,
                      "next_at": None if failed else clock() + timedelta(
                          seconds=BACKOFF_SECONDS * 2 ** (row.attempts - 1))}
    with services.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == message_id, outbox.c.attempts == row.attempts)
                     .values(**values))
        if bounce is not None:  # the recipient refused for good: no later message goes there
            suppress(conn, row.channel, row.recipient, str(bounce.bounce), str(bounce)[:300])
