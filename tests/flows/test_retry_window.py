"""Webhook retries default to a window that outlasts a receiver's maintenance (about 24 hours)."""

from __future__ import annotations

from metacrm.flows.runner import backoff, max_attempts
from metacrm.flows.steps import STEP_TYPES


def test_webhook_default_retry_window_is_about_a_day_and_configurable():
    kind = STEP_TYPES["webhook"]
    window = sum(backoff(kind, a) for a in range(1, max_attempts(kind)))
    assert 24 * 3600 <= window <= 26 * 3600
    short = {"retry": {"max_attempts": 4, "backoff_seconds": 1}}
    assert sum(backoff(kind, a, short) for a in range(1, max_attempts(kind, short))) == 1 + 2 + 4
