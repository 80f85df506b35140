"""Fixtures for background jobs and workflows: a Redis URL on DB 15 with a queue of the test's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.flows import executor
from metacrm.store.services import Services

REDIS_URL = os.environ.get("METACRM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("METACRM_REQUIRE_SERVICES") == "1"


def redis_available() -> bool:
    try:
        conn = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        conn.ping()
        conn.close()
        return True
    except redis.RedisError:
        return False


@pytest.fixture
def redis_queue() -> Iterator[tuple[str, str]]:
    """(redis_url, queue_name): a queue name unique to this test; its keys are deleted afterwards."""
    if not redis_available():
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required (METACRM_REQUIRE_SERVICES=1) but {REDIS_URL} does not answer")
        pytest.skip("Redis does not answer")
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield REDIS_URL, name
    executor.delete_queue(REDIS_URL, name)


@pytest.fixture
def rq_services(settings: Settings, redis_queue: tuple[str, str]) -> Iterator[Services]:
    """Services whose background jobs go to RQ on the test's own queue."""
    url, name = redis_queue
    svc = build_services(replace(settings, redis_url=url, queue_name=name, job_lease_seconds=2))
    svc.init()
    yield svc
    executor.shutdown(svc)
    svc.close()
