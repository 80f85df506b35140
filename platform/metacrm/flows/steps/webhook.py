"""Webhook: POST the record (or a body of expressions) to a URL, HMAC-signed, with a timeout and retries.

Headers: `X-MetaCRM-Timestamp`, `X-MetaCRM-Signature: sha256=<hex HMAC of "<timestamp>.<body>">`
keyed with the step's `secret` (or the installation's secret key), and `Idempotency-Key`, the
same for every attempt of this step execution, so the receiver can drop repeats. 2xx is done;
408, 429 and 5xx and network errors are retried with exponential backoff; other 4xx fail the run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from ...meta.secret_box import SecretUnreadable, box_for, reveal
from ..expressions import EXPRESSION_SCHEMA, evaluate
from . import Doc, StepContext, StepFailed, StepResult, StepType, register_step

SCHEMA = {
    "type": "object", "required": ["url"],
    "properties": {
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "method": {"enum": ["POST", "PUT", "PATCH"]},
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": {"type": "object", "additionalProperties": {"$ref": "#/$defs/expr"}},
        "secret": {"type": "string", "minLength": 8},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 60},
    },
    "$defs": EXPRESSION_SCHEMA["$defs"],
}
RETRYABLE = {408, 425, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _payload(ctx: StepContext, doc: Doc) -> dict[str, Any]:
    record = ctx.record or {}
    if "body" in doc:
        return {k: evaluate(v, record, ctx.now, ctx.tz) for k, v in doc["body"].items()}
    return {"workflow": ctx.workflow.name, "run_id": ctx.run_id, "object": ctx.object_name, "record": record}


def _opened(ctx: StepContext, doc: Doc) -> tuple[str, dict[str, str]]:
    """The signing secret and the headers in clear: stored encrypted (meta.secret_box), opened only here.
    A secret the current key cannot open fails the run (no retry) naming the workflow, step and path."""
    box = box_for(ctx.services.settings.secret_key)
    where = f"workflow/{ctx.workflow.name} v{ctx.workflow.version} step {ctx.step_id or doc.get('id', '?')}#"
    try:
        secret = reveal(doc.get("secret"), box, f"{where}/secret") or ctx.services.settings.secret_key
        headers = {k: reveal(v, box, f"{where}/headers/{k}") for k, v in doc.get("headers", {}).items()}
    except SecretUnreadable as exc:
        raise StepFailed(exc.message, retry=False, code=exc.code, problems=exc.problems) from None
    return secret, headers


def run(ctx: StepContext, doc: Doc) -> StepResult:
    body = json.dumps(_payload(ctx, doc), ensure_ascii=False, default=str).encode()
    timestamp = str(int(time.time()))
    secret, opened = _opened(ctx, doc)
    headers = {**opened, "Content-Type": "application/json", "Idempotency-Key": ctx.key,
               "X-MetaCRM-Timestamp": timestamp, "X-MetaCRM-Signature": sign(secret, timestamp, body),
               "User-Agent": "MetaCRM-Webhook/1"}
    request = urllib.request.Request(doc["url"], data=body, method=doc.get("method", "POST"), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=float(doc.get("timeout", 10))) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        retry = exc.code >= 500 or exc.code in RETRYABLE
        raise StepFailed(f"the webhook answered {exc.code}", retry=retry, code="webhook_status") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise StepFailed(f"the webhook did not answer: {exc}", retry=True, code="webhook_unreachable") from None
    return StepResult({"status": status})


# Retries by default span about 24 hours (a receiver's maintenance window): 2 s doubling to the
# runner's 1-hour cap, 35 attempts in all; a step's `retry` may shorten it.
register_step(StepType("webhook", SCHEMA, run, effect="external", max_attempts=35, backoff_seconds=2.0))
