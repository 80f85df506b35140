"""Jobs Redis lost are handed out again at the next sweep, not a job lease (300 s) later."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from metacrm.engines.wiring import build_services
from metacrm.flows import executor
from metacrm.flows.jobs import jobs_lost
from metacrm.flows.sweeper import sweep
from metacrm.flows.tables import runs, steps
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.definitions import incoming_from_files

ROOT = Path(__file__).resolve().parents[2]
BUMP = {"name": "bump", "object": "lead", "trigger": {"type": "record_created"},
        "steps": [{"id": "bump", "type": "update_record", "set": {"score": {"add": [{"field": "score"}, 1]}}}]}

pytestmark = pytest.mark.redis


@pytest.fixture
def svc(settings, redis_queue):
    """RQ services with the default 300 s job lease: anything re-run sooner was found lost."""
    url, name = redis_queue
    found = build_services(replace(settings, redis_url=url, queue_name=name, job_lease_seconds=300))
    found.init()
    found.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    found.metadata.apply([("workflow", "bump", BUMP)])
    sweep(found)  # the first sweep finds no marker yet, sets it (and hands out nothing here)
    assert not jobs_lost(found)
    yield found
    executor.shutdown(found)
    found.close()


def _finish(svc, lead_id: int) -> None:
    executor.run_worker(svc, burst=True)
    with svc.engine.connect() as conn:
        assert conn.execute(select(runs.c.status)).scalars().all() == ["completed"]
        assert conn.execute(select(steps.c.attempts)).scalars().all() == [1]
    assert svc.records.get("lead", lead_id)["score"] == 1  # the step's effect happened once


def test_a_flushed_queue_is_refilled_at_the_next_sweep(svc):
    lead = svc.records.create("lead", {"name": "Sun", "score": 0})
    queue = executor.transport(svc).queue
    assert queue.count == 1
    assert sweep(svc) == 0  # nothing lost: the step's job is queued and its lease is far off
    assert queue.count == 1

    assert executor.delete_queue(svc.settings.redis_url, svc.settings.queue_name) > 0  # Redis loses it all
    assert queue.count == 0
    assert sweep(svc) == 1  # the marker is gone: every due ready step is handed out again, now
    assert queue.count == 1
    assert sweep(svc) == 0  # and only once
    _finish(svc, lead["id"])


def test_a_failed_enqueue_is_retried_at_the_next_sweep(svc, monkeypatch, caplog):
    queue = executor.transport(svc).queue

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(queue, "enqueue_many", down)
    with caplog.at_level(logging.WARNING):
        lead = svc.records.create("lead", {"name": "Zhou", "score": 0})  # committed; its job was not queued
    assert "could not enqueue" in caplog.text
    monkeypatch.undo()
    assert queue.count == 0
    assert sweep(svc) == 1  # this process saw the enqueue fail: hand the step out again, now
    assert sweep(svc) == 0
    _finish(svc, lead["id"])


def test_an_unreachable_redis_counts_as_lost_once_it_answers(svc, monkeypatch):
    transport = executor.transport(svc)

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(transport.redis, "set", down)
    with pytest.raises(Exception, match="does not answer"):
        jobs_lost(svc)
    monkeypatch.undo()
    assert jobs_lost(svc) and not jobs_lost(svc)
