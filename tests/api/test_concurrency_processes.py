"""The concurrency cases of issue 14 on PostgreSQL with several OS processes, each with its own
engine, executor and app over the same schema (the single-process versions: test_access_runs.py,
test_access_concurrency.py):

- 30 workflow `update_record` steps computing score + 1 on one lead, from 4 processes: +30 exactly;
- 40 identical tag adds from 4 processes (8 threads each): every answer 200, no database constraint name in any
  body, one link and one `tag_added` event.

The processes are this file run as a script; they get ready (imports, engine, registry) and then
wait for one "go" on stdin, so their work overlaps. PostgreSQL only: skipped without it, a
failure with METACRM_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from metacrm.config import Settings
from metacrm.engines.wiring import build_services
from metacrm.meta.kinds import DefinitionSet
from metacrm.meta.packs import load_pack
from metacrm.store.definitions import incoming_from_files

pytestmark = pytest.mark.postgres

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
COUNTER = {"name": "counter_flow", "object": "lead", "trigger": {"type": "manual"},
           "steps": [{"id": "inc", "type": "update_record", "set": {"score": {"add": [{"field": "score"}, 1]}}}]}
TAG = {"name": "t_race", "label": {"en": "Race"}, "objects": ["lead"]}
PROCESSES = 4  # 30 runs and 40 adds split over them
DB_WORDS = ("pkey", "sys_tag_link", "constraint", "duplicate key", "unique", "psycopg", "IntegrityError")


def _services(url: str, tmp: str):
    return build_services(Settings(database_url=url, secret_key="test-secret", instance_dir=Path(tmp)))


@pytest.fixture
def pg_pack(pg_schema_url: str, tmp_path: Path):
    svc = _services(pg_schema_url, str(tmp_path))
    svc.init()
    svc.metadata.apply(incoming_from_files(load_pack([ROOT / "metadata"], DefinitionSet())))
    yield svc
    svc.close()


def _race(args: list[list[str]], budget: float = 55.0) -> list[object]:
    """Start one process per argument list, wait until all are ready, say go, return their JSON
    outputs; the whole race is bounded by `budget` seconds (a hung child fails the test, never stalls it)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    deadline = time.monotonic() + budget
    procs = [subprocess.Popen([sys.executable, str(HERE), *a], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for a in args]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdin is not None
            with selectors.DefaultSelector() as sel:
                sel.register(p.stdout, selectors.EVENT_READ)
                ready = sel.select(max(0.0, deadline - time.monotonic()))
            assert ready and p.stdout.readline().strip() == "ready", "a process did not get ready in time"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert p.returncode == 0, err[-3000:]
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


def test_update_record_steps_from_several_processes_lose_no_update(pg_pack, tmp_path):
    from metacrm.flows.tables import runs

    svc = pg_pack
    svc.metadata.apply([("workflow", "counter_flow", COUNTER)])
    lead = svc.records.create("lead", {"name": "Counted", "score": 0})
    url = svc.engine.url.render_as_string(hide_password=False)
    results = _race([["steps", url, str(tmp_path), str(lead["id"]), str(n)] for n in range(PROCESSES)])
    assert sum(r["started"] for r in results) == 30
    assert svc.records.get("lead", lead["id"])["score"] == 30
    with svc.engine.connect() as conn:
        statuses = dict(conn.execute(select(runs.c.status, func.count()).where(runs.c.workflow == "counter_flow")
                                     .group_by(runs.c.status)).all())
    assert statuses == {"completed": 30}, statuses


def test_identical_tag_adds_from_several_processes_are_one_link_and_no_error(pg_pack, tmp_path):
    from metacrm.api.app import create_app  # noqa: F401  (the children build the app; fail here first if it cannot)
    from metacrm.auth import accounts
    from metacrm.auth.tokens import create_token
    from metacrm.engines.tag_store import tag_links
    from metacrm.store.users import ensure_user

    svc = pg_pack
    svc.metadata.apply([("tag", "t_race", TAG)])
    with svc.engine.begin() as conn:
        uid = ensure_user(conn, "admin")
        accounts.set_admin(conn, uid, True)
        _, token = create_token(conn, uid, "test")
    lead = svc.records.create("lead", {"name": "Raced"})
    url = svc.engine.url.render_as_string(hide_password=False)
    results = _race([["tags", url, str(tmp_path), str(lead["id"]), token] for _ in range(PROCESSES)])
    answers = [a for r in results for a in r["answers"]]
    assert len(answers) == 40
    assert {status for status, _ in answers} == {200}, [a for a in answers if a[0] != 200][:3]
    leaks = [text for _, text in answers if any(w.lower() in text.lower() for w in DB_WORDS)]
    assert not leaks, leaks[:3]
    with svc.engine.connect() as conn:
        links = conn.execute(select(tag_links.c.tag).where(tag_links.c.record_id == lead["id"])).scalars().all()
    assert links == ["t_race"]
    from metacrm.store.system import record_events

    with svc.engine.connect() as conn:
        added = conn.execute(select(func.count()).where(record_events.c.record_id == lead["id"],
                                                        record_events.c.kind == "tag_added")).scalar()
    assert added == 1  # one add, 39 no-ops


# --- the child processes ------------------------------------------------------------------------

def _ready() -> None:
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"


def _steps(url: str, tmp: str, lead_id: int, n: int) -> dict[str, int]:
    from metacrm.flows import executor, service

    svc = _services(url, tmp)
    svc.registry.current()
    _ready()
    mine = range(n, 30, PROCESSES)  # runs n, n + 4, ... : 30 in all
    for i in mine:
        service.start_workflow(svc, "counter_flow", lead_id, key=f"run-{i}")
    assert executor.wait_idle(svc, 40)
    executor.shutdown(svc)
    svc.close()
    return {"started": len(mine)}


def _tags(url: str, tmp: str, lead_id: int, token: str) -> dict[str, list[tuple[int, str]]]:
    from metacrm.api.app import create_app
    from metacrm.flows import executor

    svc = _services(url, tmp)
    app = create_app(svc.settings, svc)
    app.config["TESTING"] = True
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(f"/api/v1/records/lead/{lead_id}", headers=headers).status_code == 200
    _ready()

    def add(_: int) -> tuple[int, str]:
        r = app.test_client().post(f"/api/v1/records/lead/{lead_id}/tags", json={"tags": ["t_race"]}, headers=headers)
        return r.status_code, r.get_data(as_text=True)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(add, range(40 // PROCESSES)))
    executor.shutdown(svc, 20)
    svc.close()
    return {"answers": answers}


if __name__ == "__main__":
    mode, db, folder, record = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    out = _steps(db, folder, record, int(sys.argv[5])) if mode == "steps" else _tags(db, folder, record, sys.argv[5])
    print(json.dumps(out))
