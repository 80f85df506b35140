"""Consent and suppression: who a workflow may send marketing messages to.

A `send_message` step (purpose `marketing`, the default) sends only when the record has marketing
consent for the channel (`consent_<channel>` when the object has such a field, else
`consent_marketing`; an object with neither has no consent to give, so nothing is sent), the
address is not on the suppression list (unsubscribes, bounces, complaints, manual entries:
`wf_suppression`, fed by bounces.py), and the record is not in the workflow's suppression segment
(`suppression.segment`). Transactional messages (`purpose: transactional`) skip the consent check
only: a suppressed address gets nothing at all. The skip is the step's output
(`skipped: no_consent | suppressed | suppressed_segment`), so the run shows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .conditions import rule_matches, segment_rule
from .tables import suppressions

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .steps import StepContext

REASONS = ("unsubscribe", "bounce", "complaint", "manual")


def normal_address(address: str) -> str:
    """How an address is kept and compared on the list: trimmed, lower-cased."""
    return address.strip().lower()[:320]


def suppress(conn: Connection, channel: str, address: str, reason: str = "unsubscribe",
             detail: str | None = None) -> bool:
    """Put an address on the list (idempotent: the first reason stays); True when it was new."""
    address = normal_address(address)
    found = conn.execute(select(suppressions.c.address).where(suppressions.c.channel == channel,
                                                              suppressions.c.address == address)).first()
    if found is not None:
        return False
    conn.execute(suppressions.insert().values(channel=channel, address=address, reason=reason, detail=detail,
                                              created_at=datetime.now(UTC)))
    return True


def has_consent(record: dict[str, Any], channel: str) -> bool:
    specific = f"consent_{channel}"
    if specific in record:
        return record[specific] is True
    return record.get("consent_marketing") is True


def refusal(ctx: StepContext, doc: dict[str, Any], channel: str, address: str) -> str | None:
    """Why this message must not go out, or None."""
    record = ctx.record or {}
    marketing = doc.get("purpose", "marketing") == "marketing"
    if marketing and not has_consent(record, channel):
        return "no_consent"
    if ctx.conn is not None and ctx.conn.execute(select(suppressions.c.reason).where(
            suppressions.c.channel == channel, suppressions.c.address == normal_address(address))).first():
        return "suppressed"  # issue 25: nothing goes to a suppressed address, whatever the purpose
    segment = (ctx.workflow.doc.get("suppression") or {}).get("segment")
    if segment and ctx.record is not None:
        rule = segment_rule(ctx.snapshot, segment)
        if rule is None or rule_matches(rule, record, ctx.object_name, ctx.snapshot, ctx.conn, ctx.now, ctx.tz):
            return "suppressed_segment"
    return None
