"""Workflow throughput on RQ: record events each starting a 3-step workflow vs the no-op job ceiling.

For each back end (SQLite file, PostgreSQL when it answers): start --workers `metacrm worker`
processes on a fresh queue of Redis DB 15, then
1. the transport's ceiling: enqueue 3 x N no-op jobs (pipelined) and time until they are done;
2. the engine: create N records (in transactions of --batch) on an object with a workflow
   record_created -> update_record -> branch (rule) -> notify, and time until every run completed.
Prints runs/s, p50/p99 trigger-to-done latency (run created -> run finished), no-op jobs/s and
ratio = runs/s / (no-op jobs/s / 3): how close 3 workflow steps come to 3 bare RQ jobs.
The last line is one JSON object with all figures; its `ratio` is the lowest of the back ends.

usage: python bench/workflows.py [--n 10000] [--workers 2] [--batch 100] [--pg-url URL] [--redis-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from redis import Redis
from rq import Queue
from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "platform"))

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.flows import executor
from metacrm.flows.jobs import enqueue_many
from metacrm.flows.tables import runs
from metacrm.store.users import ensure_user

OBJECT = {
    "$id": "bench_item", "type": "object", "x-label": {"en": "Bench item"},
    "properties": {
        "name": {"x-field": "text", "maxLength": 120},
        "score": {"x-field": "integer", "minimum": 0, "maximum": 100},
        "status": {"x-field": "select", "enum": ["new", "processed"]},
    },
    "required": ["name"],
}
WORKFLOW = {
    "name": "bench_flow", "object": "bench_item", "trigger": {"type": "record_created"},
    "steps": [
        {"id": "mark", "type": "update_record", "set": {"status": "processed"}},
        {"id": "check", "type": "branch", "rule": {"field": "score", "op": "gte", "value": 50},
         "then": "tell", "else": "tell"},
        {"id": "tell", "type": "notify", "to": {"user": "bench"}, "title": "{name} processed"},
    ],
}


def workers(settings: Settings, count: int) -> list[subprocess.Popen]:
    env = {**os.environ, "METACRM_DATABASE_URL": settings.database_url, "METACRM_REDIS_URL": settings.redis_url or "",
           "METACRM_QUEUE": settings.queue_name, "METACRM_JOB_LEASE_SECONDS": str(settings.job_lease_seconds),
           "METACRM_SECRET_KEY": "bench", "METACRM_INSTANCE_DIR": str(settings.instance_dir)}
    # each in a process group of its own: a kill reaches the scheduler RQ forks as well
    return [subprocess.Popen([sys.executable, "-m", "metacrm.cli", "worker"], env=env, start_new_session=True)
            for _ in range(count)]


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def drained(queue: Queue) -> bool:
    return queue.count == 0 and queue.started_job_registry.count == 0


def ceiling(svc, queue: Queue, jobs: int) -> float:
    """No-op jobs/s: enqueue in pipelines of 1,000 and wait until the workers have done them all."""
    start = time.perf_counter()
    for i in range(0, jobs, 1000):
        enqueue_many(svc, "noop", [{} for _ in range(min(1000, jobs - i))])
    while not drained(queue):
        time.sleep(0.05)
    return jobs / (time.perf_counter() - start)


def engine_run(svc, n: int, batch: int) -> dict:
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        svc.records.bulk_create("bench_item", [{"name": f"item {j}", "score": j % 100}
                                               for j in range(i, min(n, i + batch))])
    created = time.perf_counter() - t0
    with svc.engine.connect() as conn:
        while True:
            done = conn.execute(select(func.count()).select_from(runs).where(runs.c.status == "completed")).scalar_one()
            failed = conn.execute(select(func.count()).select_from(runs).where(runs.c.status == "failed")).scalar_one()
            if done + failed >= n:
                break
            conn.rollback()
            time.sleep(0.1)
        rows = conn.execute(select(runs.c.created_at, runs.c.finished_at)).all()
    first = min(r.created_at for r in rows)
    last = max(r.finished_at for r in rows)
    latencies = sorted((r.finished_at - r.created_at).total_seconds() for r in rows)
    return {"runs": n, "failed": failed, "create_seconds": round(created, 2),
            "runs_per_s": round(n / (last - first).total_seconds(), 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)}


def bench(backend: str, url: str, args: argparse.Namespace, tmp: Path) -> dict:
    settings = Settings(database_url=url, redis_url=args.redis_url, secret_key="bench", instance_dir=tmp,
                        queue_name=f"bench_{uuid.uuid4().hex[:10]}", job_lease_seconds=120)
    svc = build_services(settings)
    svc.init()
    svc.metadata.apply([("object", "bench_item", OBJECT)])
    svc.metadata.apply([("workflow", "bench_flow", WORKFLOW)])
    with svc.engine.begin() as conn:
        ensure_user(conn, "bench")
    redis = Redis.from_url(args.redis_url)
    queue = Queue(settings.queue_name, connection=redis)
    procs = workers(settings, args.workers)
    try:
        time.sleep(3)  # let the workers start
        noop_per_s = ceiling(svc, queue, 3 * args.n)
        result = engine_run(svc, args.n, args.batch)
    finally:
        stop(procs)
        executor.shutdown(svc)
        executor.delete_queue(args.redis_url, settings.queue_name)
        redis.close()
        svc.close()
    result.update(backend=backend, workers=args.workers, noop_jobs=3 * args.n, noop_jobs_per_s=round(noop_per_s, 1),
                  ratio=round(result["runs_per_s"] / (noop_per_s / 3), 3))
    print(f"{backend:10} {result['runs_per_s']:>8} runs/s  p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms  "
          f"no-op {result['noop_jobs_per_s']} jobs/s  ratio {result['ratio']}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
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
    print(json.dumps({"bench": "workflows", "n": args.n, "results": results,
                      "ratio": min(r["ratio"] for r in results)}))


if __name__ == "__main__":
    main()
