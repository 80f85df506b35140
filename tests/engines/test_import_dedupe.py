"""Duplicates on import: skipped, merged or flagged as the dedupe definition (or the job) says."""

from __future__ import annotations

from metacrm.engines.dedupe.merge import list_merges, undo_merge
from metacrm.engines.dedupe.review import list_candidates
from metacrm.engines.imports.runner import create_import, outcome_rows, run_import
from metacrm.store.db import reading

HEADER = ["姓名", "手机号", "公司", "备注", "兴趣偏好"]


def test_skip_same_phone_and_flag_similar_names(standard_pack, xlsx):
    svc = standard_pack
    existing = svc.records.create("lead", {"name": "王小明", "phone": "13800000001", "company": "Acme"})
    rows = [["王小明", "138 0000 0001", "Acme", None, None],      # same phone as the pool: skipped
            ["王晓明", "13800000002", "Acme", None, None],        # similar name, same company: flagged
            ["李四", "13800000003", "Globex", None, None],
            ["李四", "13800000003", "Globex", "again", None]]     # same phone as the row above: skipped
    done = run_import(svc, create_import(svc, xlsx([HEADER, *rows]), "d.xlsx", "lead")["id"])
    assert (done["created"], done["skipped"], done["flagged"], done["failed"]) == (2, 2, 1, 0)
    with reading(svc.engine) as conn:
        outcomes = {o["row_number"]: o for o in outcome_rows(conn, done["id"])}
        [pair] = list_candidates(svc, conn, "lead", with_records=False)
    assert outcomes[2]["action"] == "skipped" and outcomes[2]["record_id"] == existing["id"]
    assert outcomes[2]["detail"]["rule"] == "same_phone"
    assert outcomes[3]["action"] == "flagged" and pair["left_id"] == existing["id"]
    assert outcomes[5]["action"] == "skipped" and outcomes[5]["record_id"] == outcomes.get(4, {}).get(
        "record_id", outcomes[5]["record_id"]) and outcomes[5]["record_id"] is not None
    assert pair["source"] == "import"


def test_merge_on_import_updates_the_pool_record_with_history(standard_pack, xlsx):
    svc = standard_pack
    existing = svc.records.create("lead", {"name": "王小明", "phone": "13800000001", "notes": "old note",
                                           "interests": ["travel"]})
    rows = [["王小明", "13800000001", "Acme", "new note", "美食饮品"],
            ["赵六", "13800000009", None, "first", None],
            ["赵六", "13800000009", "Initech", "second", None]]
    job = create_import(svc, xlsx([HEADER, *rows]), "m.xlsx", "lead", on_duplicate="merge")
    done = run_import(svc, job["id"])
    assert (done["created"], done["merged"]) == (1, 2)
    merged = svc.records.get("lead", existing["id"])
    assert merged["company"] == "Acme" and merged["notes"] == "old note\nnew note"
    assert merged["interests"] == ["travel", "food"]
    zhao = [r for r in svc.records.list("lead") if r["name"] == "赵六"]
    assert len(zhao) == 1 and zhao[0]["company"] == "Initech" and zhao[0]["notes"] == "first\nsecond"
    with reading(svc.engine) as conn:
        [history] = list_merges(conn, "lead", existing["id"])
    assert history["source"] == "import" and history["merged_ids"] == []
    with svc.engine.begin() as conn:
        undo_merge(svc, conn, history["id"])
    assert svc.records.get("lead", existing["id"])["notes"] == "old note"


def test_the_similar_name_lookup_searches_the_company_index(standard_pack):
    """A row-value IN over (company, prefix of the name) alone scanned the whole table on SQLite
    (and PostgreSQL hashed a scan of it) once per import batch: the company's own IN list keeps the
    lookup on its index, so an import's cost per row does not grow with the table."""
    from sqlalchemy import event

    from metacrm.engines.dedupe.definition import definitions_for
    from metacrm.engines.dedupe.incoming import find_duplicates

    svc = standard_pack
    svc.records.bulk_create("lead", [{"name": f"王{i}", "company": f"公司{i % 7}", "phone": f"139{i:08d}"}
                                     for i in range(40)])
    snap = svc.registry.current()
    [dd] = definitions_for(snap.definitions, "lead")
    rows = [svc.registry.current().object("lead").prepare({"name": "王 1", "company": "公司1"}, False,
                                                         svc.records.ctx)[0]]
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "obj_lead.company" in statement and "obj_lead.name" in statement:
            seen.append((statement, parameters))

    event.listen(svc.engine, "before_cursor_execute", capture)
    try:
        with svc.engine.connect() as conn:
            hits = find_duplicates(conn, snap, dd, rows, "import")
    finally:
        event.remove(svc.engine, "before_cursor_execute", capture)
    assert hits and seen
    with svc.engine.connect() as conn:
        prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(prefix + seen[0][0], seen[0][1]))
        if conn.dialect.name == "postgresql":
            assert "company)::text = ANY" in plan  # the index condition the planner may use
        else:
            assert "USING INDEX ix_obj_lead_company" in plan and "SCAN obj_lead" not in plan
