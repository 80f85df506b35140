"""Many sweepers never hand out one wait twice: due rows are claimed with FOR UPDATE SKIP LOCKED."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from metacrm.flows import sweeper
from metacrm.flows.runs import RunSpec, current_workflow, start_runs, utcnow
from metacrm.flows.tables import steps

FLOW = {"name": "parked", "object": "lead", "trigger": {"type": "manual"},
        "steps": [{"id": "later", "type": "merge"}, {"id": "done", "type": "end"}]}


def test_a_sweeper_skips_rows_another_one_holds(standard_pack, monkeypatch):
    svc = standard_pack
    svc.metadata.apply([("workflow", "parked", FLOW)])
    handed: list[list[int]] = []
    monkeypatch.setattr(sweeper, "enqueue_many", lambda _s, _n, calls: handed.append(
        [i for c in calls for i in c["step_ids"]]))
    from metacrm.flows import runs

    monkeypatch.setattr(runs, "dispatch_later", lambda *a: None)  # only the sweepers hand these rows out
    past = utcnow() - timedelta(hours=1)
    with svc.engine.begin() as conn:
        wf = current_workflow(conn, svc.registry.current(conn), "parked")
        start_runs(conn, [RunSpec(wf, None, "test") for _ in range(20)], now=past)
        conn.execute(steps.update().values(enqueued_at=None))
    with svc.engine.connect() as conn:
        ids = sorted(conn.execute(select(steps.c.id)).scalars())
    if svc.engine.dialect.name != "postgresql":
        assert sweeper.sweep_steps(svc) == 20  # one writer at a time: nothing to skip
        return
    holder = svc.engine.connect()
    trans = holder.begin()
    held = list(holder.execute(select(steps.c.id).where(steps.c.id.in_(ids[:8])).with_for_update()).scalars())
    try:
        assert sweeper.sweep_steps(svc) == 12  # the 8 rows another sweeper holds are skipped, not waited for
        assert sorted(handed[-1]) == ids[8:]
    finally:
        trans.rollback()
        holder.close()
    assert sweeper.sweep_steps(svc) == 8
    assert sorted(handed[-1]) == sorted(held)
