"""Waits falling due together: N parked runs resumed by the sweeper vs N RQ jobs scheduled with enqueue_at.

For each back end (SQLite file, PostgreSQL when it answers): start --workers `metacrm worker`
processes on a fresh queue (Redis DB 15); park N runs on a wait whose next step falls due at
one moment T, and time until every run has resumed, run that step and finished; then, on the
same workers, schedule N no-op RQ jobs with `enqueue_at` for one moment and time until all ran.
Prints resumed runs/s, p50/p99 lag after wake_at (step finished - T), RQ's jobs/s and
ratio = ours / RQ's. The last line is one JSON object; its `ratio` is the lowest of the back ends.

usage: python bench/waits.py [--n 10000] [--workers 2] [--pg-url URL] [--redis-url URL] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.flows import executor
from metacrm.flows import runs as runs_module
from metacrm.flows.runs import RunSpec, current_workflow, start_runs
from metacrm.flows.tables import runs, steps
from workflows import stop, workers  # bench/workflows.py: worker processes

FLOW = {"name": "bench_wait", "object": "lead_like", "trigger": {"type": "manual"},
        "steps": [{"id": "pause", "type": "wait", "duration": {"amount": 1, "unit": "day"}},
                  {"id": "woke", "type": "merge"}, {"id": "done", "type": "end"}]}
OBJECT = {"$id": "lead_like", "type": "object", "x-label": {"en": "Bench"},
          "properties": {"name": {"x-field": "text", "maxLength": 40}}, "required": ["name"]}


def park(svc, n: int, due: datetime) -> list[int]:
    """N runs waiting before `woke`, due at `due` (written directly: no job is queued for them)."""
    runs_module.dispatch_later = lambda *a: None  # type: ignore[assignment]  # only the sweepers hand them out
    ids: list[int] = []
    with svc.engine.connect() as conn:
        wf = current_workflow(conn, svc.registry.current(conn), "bench_wait")
    for start in range(0, n, 2000):
        with svc.engine.begin() as conn:
            chunk = start_runs(conn, [RunSpec(wf, None, "bench") for _ in range(min(2000, n - start))])
            conn.execute(steps.update().where(steps.c.run_id.in_(chunk)).values(
                step="woke", type="merge", due_at=due, enqueued_at=None))
            conn.execute(runs.update().where(runs.c.id.in_(chunk)).values(status="waiting"))
        ids += chunk
    return ids


def ours(svc, n: int, lead: float) -> dict:
    due = datetime.now(UTC) + timedelta(seconds=lead)
    park(svc, n, due)
    with svc.engine.connect() as conn:
        while True:
            left = conn.execute(select(func.count()).select_from(runs).where(
                runs.c.status.in_(("running", "waiting")))).scalar_one()
            if left == 0:
                break
            conn.rollback()
            time.sleep(0.2)
        done = [r for r in conn.execute(select(steps.c.finished_at).where(steps.c.step == "woke")).scalars()]
        last = conn.execute(select(func.max(runs.c.finished_at))).scalar_one()
    lags = sorted((f - due).total_seconds() for f in done)
    return {"runs": n, "seconds": round((last - due).total_seconds(), 2),
            "runs_per_s": round(n / max((last - due).total_seconds(), 1e-3), 1),
            "p50_lag_s": round(statistics.median(lags), 2), "p99_lag_s": round(lags[int(len(lags) * 0.99) - 1], 2)}


def rq_scheduled(queue: Queue, n: int, lead: float) -> dict:
    at = datetime.now(UTC) + timedelta(seconds=lead)
    with queue.connection.pipeline() as pipe:
        for _ in range(n):
            queue.enqueue_at(at, executor.perform, "noop", {}, result_ttl=0, pipeline=pipe)
        pipe.execute()
    registry = ScheduledJobRegistry(queue=queue)
    while registry.count or queue.count or queue.started_job_registry.count:
        time.sleep(0.05)
    seconds = max((datetime.now(UTC) - at).total_seconds(), 1e-3)
    return {"jobs": n, "seconds": round(seconds, 2), "jobs_per_s": round(n / seconds, 1)}


def bench(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict:
    settings = Settings(database_url=url, redis_url=args.redis_url, secret_key="bench", instance_dir=tmp,
                        queue_name=f"bench_{uuid.uuid4().hex[:10]}", job_lease_seconds=120)
    svc = build_services(settings)
    svc.init()
    svc.metadata.apply([("object", "lead_like", OBJECT)])
    svc.metadata.apply([("workflow", "bench_wait", FLOW)])
    redis = Redis.from_url(args.redis_url)
    queue = Queue(settings.queue_name, connection=redis, serializer=JSONSerializer)
    procs = workers(settings, args.workers)
    try:
        time.sleep(3)  # let the workers start
        result = ours(svc, args.n, lead=5.0)
        baseline = rq_scheduled(queue, args.n, lead=5.0)
    finally:
        stop(procs)
        executor.shutdown(svc)
        executor.delete_queue(args.redis_url, settings.queue_name)
        redis.close()
        svc.close()
    result.update(backend=backend, workers=args.workers, rq=baseline,
                  ratio=round(result["runs_per_s"] / baseline["jobs_per_s"], 3))
    print(f"{backend:10} {result['runs_per_s']:>8} resumed runs/s  p99 lag {result['p99_lag_s']} s  "
          f"RQ enqueue_at {baseline['jobs_per_s']} jobs/s  ratio {result['ratio']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in args.backends:
            results.append(bench("sqlite", f"sqlite:///{tmp}/bench.db", args, Path(tmp)))
        if "postgresql" in args.backends:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            try:
                admin = create_engine(args.pg_url)
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            except Exception as exc:  # PostgreSQL does not answer: SQLite only
                print(f"postgresql skipped: {exc}", file=sys.stderr)
            else:
                try:
                    results.append(bench("postgresql", f"{args.pg_url}?options=-csearch_path%3D{schema}", args,
                                         Path(tmp)))
                finally:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
    print(json.dumps({"bench": "waits", "n": args.n, "results": results,
                      "ratio": min(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
