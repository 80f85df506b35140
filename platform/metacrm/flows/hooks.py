"""The signed inbound webhook of a workflow (trigger type `webhook`).

`POST /api/v1/hooks/workflows/<name>` with `X-MetaCRM-Timestamp` (Unix seconds) and
`X-MetaCRM-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`, keyed with the
workflow's own secret (derived from the installation's secret key and the workflow name, shown
to administrators by `POST /workflows/<name>/hook-secret`, an action, never a read). Requests older or newer than 5 minutes are
refused (replays). Body: `{"record_id": 7, "key": "order-123", "event": "reply"}`: with `event`,
the record's runs waiting for that event wake (events.py); otherwise a run of the workflow
starts (once per `key`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any

from ..errors import Conflict, PermissionDenied, Problem, ValidationError
from . import service
from .events import deliver

if TYPE_CHECKING:
    from ..store.services import Services

WINDOW_SECONDS = 300


SIGNATURE_HELP = "X-MetaCRM-Signature: sha256=HMAC(secret, '<X-MetaCRM-Timestamp>.<body>')"
"""How a caller signs an inbound hook (workflow or bounce callback): shown with its secret."""


def hook_secret(services: Services, name: str) -> str:
    return hmac.new(services.settings.secret_key.encode(), f"workflow-hook:{name}".encode(), hashlib.sha256).hexdigest()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(services: Services, name: str, timestamp: str, sent: str, body: bytes, now: float | None = None) -> None:
    verify_signature(hook_secret(services, name), timestamp, sent, body, now)


def verify_signature(secret: str, timestamp: str, sent: str, body: bytes, now: float | None = None) -> None:
    """Refuse (403 bad_signature) a request not signed with `secret` or signed outside the window."""
    refused = PermissionDenied("the webhook signature is missing, wrong or too old",
                               [Problem("X-MetaCRM-Signature", "bad_signature", "sha256 HMAC of '<timestamp>.<body>'")])
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > WINDOW_SECONDS:
        raise refused
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise refused


def receive(services: Services, name: str, body: dict[str, Any]) -> dict[str, Any]:
    doc = services.registry.current().definitions.get("workflow", name)
    if doc is None or doc.get("trigger", {}).get("type") != "webhook":
        raise PermissionDenied("no workflow with a webhook trigger by that name",
                               [Problem("workflow", "no_webhook", name[:64])])
    if not doc.get("enabled", True) or doc.get("archived"):
        raise Conflict(f"workflow {name} is disabled", [Problem("workflow", "disabled", name[:64])])
    record_id = body.get("record_id")
    if record_id is not None and (not isinstance(record_id, int) or isinstance(record_id, bool) or record_id < 1):
        raise ValidationError("record_id must be a positive integer", [Problem("record_id", "type", "integer")])
    key = body.get("key")
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 150):
        raise ValidationError("key must be a text of 1 to 150 characters", [Problem("key", "type", "string")])
    event = body.get("event")
    if event is not None:
        if not isinstance(event, str) or record_id is None:
            raise ValidationError("an event needs its name and record_id", [Problem("event", "type", "string")])
        with services.engine.begin() as conn:
            return {"event": event, "woken": deliver(conn, doc["object"], record_id, event[:64])}
    run = service.start_workflow(services, name, record_id, key=f"hook:{name}:{key}" if key else None,
                                 trigger="webhook")
    return {"run": {"id": run["id"], "status": run["status"]}}
