"""The background-jobs contract: @job + enqueue, on the in-process thread and on RQ."""

from __future__ import annotations

import threading

import pytest

from metacrm.errors import NotFound
from metacrm.flows import executor
from metacrm.flows.jobs import enqueue, enqueue_many, job

SEEN: list[tuple[str, dict]] = []
LOCK = threading.Lock()


@job("test.record")
def record_call(services, **kwargs):
    with LOCK:
        SEEN.append((threading.current_thread().name, kwargs))


@job("test.fail")
def always_fails(services, **kwargs):
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _clear():
    SEEN.clear()


def test_thread_transport_runs_jobs_in_background(services):
    ids = [enqueue(services, "test.fail"), enqueue(services, "test.record", n=1, tags=["a"])]
    ids += enqueue_many(services, "test.record", [{"n": 2}, {"n": 3}])
    assert len(set(ids)) == 4
    assert executor.wait_idle(services, 10)
    assert [kw for _, kw in SEEN] == [{"n": 1, "tags": ["a"]}, {"n": 2}, {"n": 3}]
    assert {name for name, _ in SEEN} == {"metacrm-jobs"}
    executor.shutdown(services)


def test_unknown_job_and_non_json_arguments_are_refused(services):
    with pytest.raises(NotFound):
        enqueue(services, "test.nope")
    with pytest.raises(TypeError):
        enqueue(services, "test.record", when=object())


@pytest.mark.redis
def test_rq_transport_runs_jobs_on_a_worker(rq_services):
    ids = enqueue_many(rq_services, "test.record", [{"n": i} for i in range(5)])
    assert all(i.startswith(rq_services.settings.queue_name + "-") for i in ids)
    enqueue(rq_services, "test.fail")
    assert SEEN == []
    executor.run_worker(rq_services, burst=True)
    assert sorted(kw["n"] for _, kw in SEEN) == [0, 1, 2, 3, 4]
