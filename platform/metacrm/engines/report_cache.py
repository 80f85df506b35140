"""Report results cached per process: by (definition, the caller's scope, parameters, zone, limit,
language), for CACHE_TTL seconds, and dropped by any record write this process sees (other
processes' writes: the TTL)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from ..auth.principal import Principal
from ..store.definitions import Snapshot
from ..store.events import RecordEvent

CACHE_TTL = 60.0
CACHE_SIZE = 256
_cache: OrderedDict[str, tuple[float, int, dict[str, Any]]] = OrderedDict()
_generation = {"n": 0}
_lock = threading.Lock()


def on_record_events(conn: Connection, snap: Snapshot, events: list[RecordEvent]) -> None:
    """Any record write makes this process's cached report results stale (other processes: the TTL)."""
    if events:
        with _lock:
            _generation["n"] += 1


def scope_key(who: Principal) -> str:
    """Callers with the same grants (and, for own/team scope, the same user) see the same rows."""
    if who.is_admin:
        return "admin"
    grants = sorted((k, p.scope, p.read, sorted(p.hidden)) for k, p in who.grants.items())
    personal = any(p.scope != "all" for p in who.grants.values())
    return json.dumps([grants, sorted(who.team_user_ids), who.id if personal else None], default=str)


def cache_key(doc: Mapping[str, Any], who: Principal, params: Mapping[str, Any], tz: str, limit: int,
              language: str) -> str:
    raw = json.dumps([doc, scope_key(who), params, tz, limit, language], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def cached(key: str) -> tuple[dict[str, Any] | None, int]:
    """The fresh result under `key` (or None) and the write generation to store a new one under."""
    with _lock:
        hit = _cache.get(key)
        generation = _generation["n"]
    if hit is not None and hit[1] == generation and time.monotonic() - hit[0] < CACHE_TTL:
        return hit[2], generation
    return None, generation


def keep(key: str, generation: int, result: dict[str, Any]) -> None:
    with _lock:
        _cache[key] = (time.monotonic(), generation, result)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)


def clear_cache() -> None:
    with _lock:
        _cache.clear()
