"""HTTP API under load: gunicorn (several workers) on PostgreSQL, driven from a second process.

For a bounded time per scenario, a load process on loopback sends requests with N concurrent
keep-alive connections and measures requests/s and p50/p99 latency:
  list   GET /api/v1/records/lead?filter=<city in 2 cities>&limit=50 with an API token
  create POST /api/v1/records/lead with an API token
and the same two through a plain Flask app doing the equivalent raw SQLAlchemy query
(bench/api_plain.py), served the same way in the same run. Any non-2xx answer counts as an error.
The last line is one JSON object; `ratio` is plain list req/s over API list req/s.

usage: python bench/api.py [--n 20000] [--seconds 8] [--workers 3] [--concurrency 8] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform"))

CITIES = ["shanghai", "beijing", "shenzhen", "guangzhou", "hangzhou", "chengdu"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(port: int, method: str, path: str, body: Any, headers: dict[str, str], seconds: float,
          concurrency: int) -> dict[str, Any]:
    """Send requests for `seconds` over `concurrency` connections; latencies in ms."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad: list[int] = []
        i = 0
        while time.monotonic() < stop:
            i += 1
            payload = None
            if body is not None:
                payload = json.dumps({**body, "name": f"{body['name']} {n}-{i}"})
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append((time.perf_counter() - t0) * 1000)
            if not 200 <= status < 300:
                bad.append(status)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 2) if latencies else 0.0

    return {"requests": len(latencies), "rps": round(len(latencies) / seconds, 1), "p50_ms": pct(0.5),
            "p99_ms": pct(0.99), "errors": len(errors), "error_statuses": sorted(set(errors))[:10]}


def load_main(args: argparse.Namespace) -> None:
    """The load process: run the scenarios given as JSON and print the results as JSON."""
    scenarios = json.loads(args.scenarios)
    out = {}
    for name, s in scenarios.items():
        out[name] = drive(s["port"], s["method"], s["path"], s.get("body"), s["headers"], args.seconds,
                          args.concurrency)
    print(json.dumps(out))


def wait_up(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server on port {port} did not start")


def gunicorn(app_spec: str, port: int, workers: int, env: dict[str, str], chdir: Path) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen([str(exe), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--chdir", str(chdir), "--log-level", "warning", "--keep-alive", "30", app_spec],
                            env=env, stdout=subprocess.DEVNULL)


def setup(url: str, n: int) -> str:
    """The standard pack, an admin with a token, and n leads; returns the token."""
    from metacrm.auth import accounts
    from metacrm.auth.tokens import create_token
    from metacrm.config import Settings
    from metacrm.engines.wiring import build_services
    from metacrm.meta.kinds import DefinitionSet
    from metacrm.meta.packs import load_pack
    from metacrm.store.definitions import incoming_from_files
    from metacrm.store.users import ensure_user

    svc = build_services(Settings(database_url=url, secret_key="bench"))
    svc.init()
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    with svc.engine.begin() as conn:
        uid = ensure_user(conn, "bench_admin")
        accounts.set_admin(conn, uid, True)
        _, token = create_token(conn, uid, "bench")
    rng = random.Random(7)
    for start in range(0, n, 2000):
        rows = [{"name": f"Lead {i}", "city": rng.choice(CITIES), "score": rng.randint(0, 100)}
                for i in range(start, min(n, start + 2000))]
        svc.records.bulk_create("lead", rows, actor_id=uid)
    with svc.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    svc.close()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="leads loaded before the run")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each scenario")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per server")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections of the load process")
    parser.add_argument("--pg-url", default=os.environ.get("METACRM_TEST_PG_URL",
                                                           "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scenarios", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    admin = create_engine(args.pg_url, connect_args={"connect_timeout": 3})
    try:
        with admin.begin() as conn:
            schema = f"bench_api_{uuid.uuid4().hex[:8]}"
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        raise SystemExit(f"PostgreSQL does not answer at {args.pg_url}: {type(exc).__name__}") from None
    url = f"{args.pg_url}?options=-csearch_path%3D{schema}"
    servers: list[subprocess.Popen] = []
    try:
        t0 = time.monotonic()
        token = setup(url, args.n)
        print(f"setup: {args.n} leads in {time.monotonic() - t0:.1f}s (schema {schema})", file=sys.stderr)
        env = {**os.environ, "METACRM_DATABASE_URL": url, "METACRM_SECRET_KEY": "bench",
               "PYTHONPATH": str(ROOT / "platform")}
        api_port, plain_port = free_port(), free_port()
        servers.append(gunicorn("metacrm.api.wsgi:app", api_port, args.workers, env, ROOT))
        servers.append(gunicorn("api_plain:create()", plain_port, args.workers, env, ROOT / "bench"))
        wait_up(api_port, "/health")
        wait_up(plain_port, "/plain/leads")
        rule = {"field": "city", "op": "in", "value": ["shanghai", "beijing"]}
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        plain_h = {"Content-Type": "application/json"}
        body = {"name": "Bench", "city": "shenzhen", "score": 42}
        scenarios = {
            "api_list": {"port": api_port, "method": "GET", "headers": auth,
                         "path": f"/api/v1/records/lead?limit=50&filter={quote(json.dumps(rule))}"},
            "plain_list": {"port": plain_port, "method": "GET", "headers": plain_h,
                           "path": "/plain/leads?cities=shanghai,beijing"},
            "api_create": {"port": api_port, "method": "POST", "headers": auth, "path": "/api/v1/records/lead",
                           "body": body},
            "plain_create": {"port": plain_port, "method": "POST", "headers": plain_h, "path": "/plain/leads",
                             "body": body},
        }
        for s in scenarios.values():  # warm every worker
            drive(s["port"], s["method"], s["path"], s.get("body"), s["headers"], 1.0, args.workers * 2)
        load = subprocess.run([sys.executable, __file__, "--load", "--seconds", str(args.seconds),
                               "--concurrency", str(args.concurrency), "--scenarios", json.dumps(scenarios)],
                              capture_output=True, text=True, check=True)
        results = json.loads(load.stdout)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    for name, r in results.items():
        print(f"{name:13} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
              f"errors {r['errors']}")
    summary = {
        "bench": "api", "n": args.n, "seconds": args.seconds, "workers": args.workers,
        "concurrency": args.concurrency, **{k: v for k, v in results.items()},
        "create_ratio": round(results["plain_create"]["rps"] / max(results["api_create"]["rps"], 0.1), 2),
        "errors": sum(r["errors"] for r in results.values()),
        "ratio": round(results["plain_list"]["rps"] / max(results["api_list"]["rps"], 0.1), 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
