"""Bounces and complaints: addresses no workflow message goes to again, and the admin's list.

Three ways in, one list (`wf_suppression`, read by consent.py before every `send_message`):
- a channel adapter refuses a recipient for good while sending (SMTP 5xx on RCPT: a hard bounce)
  by raising `DeliveryError(..., bounce="bounce")`; delivery.py records it with the message's fail;
- a provider reports a bounce or complaint later, to `POST /api/v1/hooks/bounces/<channel>`,
  signed like a workflow's inbound webhook (`X-MetaCRM-Timestamp`, `X-MetaCRM-Signature:
  sha256=HMAC(secret, "<timestamp>.<raw body>")`, 5 minutes' window) with the channel's own secret
  (`POST /suppressions/hook-secret`, an admin action, never a read);
- an administrator adds (`manual`) or removes an address (`/suppressions`).
An address is kept lower-cased and trimmed; a second report of one address keeps the first reason.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from ..errors import NotFound, Problem, ValidationError
from .channels import CHANNELS
from .consent import REASONS, normal_address, suppress
from .hooks import verify_signature
from .tables import suppressions

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from ..store.services import Services

REPORTED = ("bounce", "complaint")
MAX_EVENTS = 1000


def channel_of(channel: Any) -> str:
    if channel not in CHANNELS:
        raise ValidationError("unknown channel", [Problem("channel", "enum", ", ".join(CHANNELS))])
    return str(channel)


def address_of(address: Any, field: str = "address") -> str:
    if not isinstance(address, str) or not normal_address(address) or len(address.strip()) > 320:
        raise ValidationError(f"{field} must be a text of 1 to 320 characters", [Problem(field, "type", "string")])
    return normal_address(address)


def hook_secret(services: Services, channel: str) -> str:
    return hmac.new(services.settings.secret_key.encode(), f"bounce-hook:{channel}".encode(),
                    hashlib.sha256).hexdigest()


def verify(services: Services, channel: str, timestamp: str, sent: str, body: bytes) -> None:
    verify_signature(hook_secret(services, channel_of(channel)), timestamp, sent, body)


def record(conn: Connection, channel: str, address: str, reason: str, detail: str | None = None) -> bool:
    """Suppress one address for a bounce, complaint, unsubscribe or by hand; True when it was new."""
    return suppress(conn, channel, address, reason, detail)


def report(services: Services, channel: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A provider's callback: `{"events": [{"address", "type": "bounce"|"complaint", "detail"?}]}`
    (or one such event as the body). Every event is checked before any is recorded."""
    channel = channel_of(channel)
    events = body.get("events", [body]) if isinstance(body, Mapping) else None
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise ValidationError(f"events must be a list of 1 to {MAX_EVENTS} reports", [Problem("events", "type", "array")])
    checked = []
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise ValidationError("each event must be an object", [Problem(f"events.{i}", "type", "object")])
        kind = event.get("type")
        if kind not in REPORTED:
            raise ValidationError("type must be bounce or complaint", [Problem(f"events.{i}.type", "enum", "bounce, complaint")])
        detail = event.get("detail")
        if detail is not None and not isinstance(detail, str):
            raise ValidationError("detail must be a text", [Problem(f"events.{i}.detail", "type", "string")])
        checked.append((address_of(event.get("address"), f"events.{i}.address"), str(kind), (detail or "")[:300] or None))
    with services.engine.begin() as conn:
        added = sum(record(conn, channel, address, kind, detail) for address, kind, detail in checked)
    return {"channel": channel, "received": len(checked), "added": added}


def listing(services: Services, channel: str | None = None, reason: str | None = None, search: str | None = None,
            limit: int = 100, after: tuple[str, str] | None = None) -> dict[str, Any]:
    """Suppressed addresses by channel and address, `limit` at a time (`after`: the last one seen)."""
    s = suppressions.c
    query = select(suppressions).order_by(s.channel, s.address).limit(limit)
    if channel:
        query = query.where(s.channel == channel_of(channel))
    if reason:
        if reason not in REASONS:
            raise ValidationError("unknown reason", [Problem("reason", "enum", ", ".join(REASONS))])
        query = query.where(s.reason == reason)
    if search:
        query = query.where(s.address.contains(normal_address(search), autoescape=True))
    if after:
        query = query.where((s.channel > after[0]) | ((s.channel == after[0]) & (s.address > after[1])))
    with services.engine.connect() as conn:
        items = [{"channel": r.channel, "address": r.address, "reason": r.reason, "detail": r.detail,
                  "created_at": r.created_at.isoformat()} for r in conn.execute(query)]
    cursor = f"{items[-1]['channel']}:{items[-1]['address']}" if len(items) == limit else None
    return {"items": items, "next_cursor": cursor}


def add(services: Services, channel: Any, address: Any, reason: Any = "manual") -> dict[str, Any]:
    channel, address = channel_of(channel), address_of(address)
    if reason not in REASONS:
        raise ValidationError("unknown reason", [Problem("reason", "enum", ", ".join(REASONS))])
    with services.engine.begin() as conn:
        added = record(conn, channel, address, str(reason))
    return {"channel": channel, "address": address, "added": added}


def remove(services: Services, channel: str, address: str) -> dict[str, Any]:
    """Take an address off the list (e.g. the mailbox works again): later messages go to it."""
    channel, address = channel_of(channel), address_of(address)
    with services.engine.begin() as conn:
        gone = conn.execute(delete(suppressions).where(suppressions.c.channel == channel,
                                                       suppressions.c.address == address)).rowcount
    if not gone:
        raise NotFound(f"{address[:64]} is not suppressed on {channel}", [Problem("address", "not_found", address[:64])])
    return {"channel": channel, "address": address, "removed": True}
