"""`metacrm rollup rebuild OBJECT.FIELD` and `metacrm rollup verify` (the nightly check)."""

ACCOUNT = {"$id": "account", "type": "object", "properties": {
    "name": {"x-field": "text"},
    "deals": {"x-field": "rollup", "x-rollup": {"object": "deal", "via": "account", "agg": "count"}},
    "score": {"x-field": "formula", "x-result": "integer", "x-formula": {"mul": [{"field": "deals"}, 10]}},
}}
DEAL = {"$id": "deal", "type": "object", "properties": {
    "name": {"x-field": "text"}, "account": {"x-field": "relation", "x-target": "account"}}}


def test_verify_finds_drift_and_rebuild_fixes_it(services, apply_docs, run):
    apply_docs(services, ("object", ACCOUNT), ("object", DEAL))
    acc = services.records.create("account", {"name": "a"})["id"]
    for i in range(3):
        services.records.create("deal", {"name": f"d{i}", "account": acc})
    assert services.records.get("account", acc)["score"] == 30
    table = services.registry.current().tables["account"]
    with services.engine.begin() as conn:
        conn.execute(table.update().values(deals=0, score=0))
    out = run("rollup", "verify", "--no-fix", code=1).output
    assert "account.deals #1: stored 0, recomputed 3" in out
    out = run("rollup", "rebuild", "account.deals").output
    assert "rebuilt 1 record(s)" in out
    got = services.records.get("account", acc)
    assert (got["deals"], got["score"]) == (3, 30)
    assert "0 drifted" in run("rollup", "verify").output
    run("rollup", "rebuild", "account.nope", code=2)


def test_the_nightly_verifier_fixes_drift_and_tells_admins(services, apply_docs):
    from sqlalchemy import select

    from metacrm.auth import accounts
    from metacrm.engines.rollup_checks import verify_all
    from metacrm.flows.schedules import _maintenance
    from metacrm.flows.tables import notifications
    from metacrm.store.users import ensure_user

    assert "rollups.verify" in _maintenance  # runs on the daily maintenance pass
    apply_docs(services, ("object", ACCOUNT), ("object", DEAL))
    with services.engine.begin() as conn:
        accounts.set_admin(conn, ensure_user(conn, "boss"), True)
    acc = services.records.create("account", {"name": "a"})["id"]
    services.records.create("deal", {"name": "d", "account": acc})
    assert verify_all(services) == {}
    table = services.registry.current().tables["account"]
    with services.engine.begin() as conn:
        conn.execute(table.update().values(deals=5))
    assert verify_all(services) == {"account.deals": 1}
    assert services.records.get("account", acc)["deals"] == 1
    with services.engine.connect() as conn:
        titles = list(conn.execute(select(notifications.c.title)).scalars())
    assert titles == ["Roll-up account.deals: 1 value(s) had drifted and were fixed"]


def test_the_demo_keeps_its_rollups_exact(standard_pack):
    """The demo data goes through the record service: no roll-up drifts, and accounts have values."""
    from sqlalchemy import func, select

    from metacrm.cli.demo import load_demo_data
    from metacrm.flows.executor import shutdown
    from metacrm.store import rollups

    svc = standard_pack
    load_demo_data(svc, scale=0.2)
    shutdown(svc, 30)  # background jobs the writes queued finish before the database goes
    snap = svc.registry.current()
    with svc.engine.connect() as conn:
        for r in rollups.rollups_of(snap, "account"):
            assert rollups.verify(conn, snap, r, fix=False) == [], r.name
        table = snap.tables["account"]
        assert conn.execute(select(func.count()).where(table.c.open_deals > 0)).scalar() > 0
