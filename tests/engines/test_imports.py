"""Imports end to end through the record service, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from metacrm.engines.imports import runner
from metacrm.engines.imports.errorfile import write_error_file
from metacrm.engines.imports.runner import create_import, run_import
from metacrm.store.db import reading

HEADER = ["姓名", "手机号", "Email", "城市", "公司", "兴趣偏好", "Score"]
ROWS = [
    ["王 伟", "138 0013 8000", "Wang.Wei@Example.COM", "上海", "Acme", "旅行、美食饮品", 80],
    ["李娜", "13900139000", "lina@example.com", "Beijing", "Globex", None, 70.0],
    ["", "13700137000", None, "上海", None, None, None],          # name missing
    ["张三", "12345", None, "上海", None, None, None],              # bad phone
    ["赵六", "13600136000", None, "火星", None, None, None],        # unknown city
    ["Ｔｏｍ　Ｌｅｅ", "13500135000", "TOM@EXAMPLE.COM", None, None, None, "n/a"],  # full-width name, bad score
]


def _leads(svc):
    return {r["phone"]: r for r in svc.records.list("lead", limit=1000)}


def test_import_maps_normalizes_and_keeps_error_rows(standard_pack, xlsx):
    svc = standard_pack
    path = xlsx([HEADER, *ROWS])
    job = create_import(svc, path, "leads.xlsx", "lead")
    assert job["mapping"] == {"姓名": "name", "手机号": "phone", "Email": "email", "城市": "city",
                              "公司": "company", "兴趣偏好": "interests", "Score": "score"}
    assert job["total_rows"] == 6 and job["status"] == "pending"
    seen = []
    done = run_import(svc, job["id"], progress=seen.append)
    assert done["status"] == "done"
    assert (done["created"], done["failed"], done["rows_done"]) == (2, 4, 6)
    assert seen and seen[-1]["rows_done"] == 6 and seen[-1]["rate"] > 0
    leads = _leads(svc)
    wang = leads["+8613800138000"]
    assert wang["name"] == "王 伟" and wang["email"].lower() == "wang.wei@example.com"
    assert wang["city"] == "shanghai" and wang["interests"] == ["travel", "food"] and wang["score"] == 80
    assert leads["+8613900139000"]["city"] == "beijing"

    out = io.BytesIO()
    with reading(svc.engine) as conn:
        assert write_error_file(conn, job["id"], out, language="zh") == 4
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADER, "错误"]
    assert rows[1][1] == "13700137000" and "姓名" in rows[1][-1]
    assert "手机号" in rows[2][-1] and "城市" in rows[3][-1] and "Score" in rows[4][-1]

    # fix the error rows and import the fixed file
    fixed = [list(r[:-1]) for r in rows[1:]]
    fixed[0][0] = "钱七"
    fixed[1][1] = "13400134000"
    fixed[2][3] = "深圳"
    fixed[3][6] = 50
    job2 = create_import(svc, xlsx([HEADER, *fixed], "fixed.xlsx"), "fixed.xlsx", "lead")
    done2 = run_import(svc, job2["id"])
    assert (done2["created"], done2["failed"]) == (4, 0)
    assert _leads(svc)["+8613500135000"]["name"] == "Ｔｏｍ　Ｌｅｅ"  # names as typed


def test_reimporting_the_same_file_is_idempotent(standard_pack, xlsx):
    svc = standard_pack
    path = xlsx([HEADER, *ROWS[:2]])
    first = run_import(svc, create_import(svc, path, "a.xlsx", "lead")["id"])
    assert first["created"] == 2
    again = run_import(svc, create_import(svc, path, "a.xlsx", "lead")["id"])
    assert (again["created"], again["already_imported"], again["failed"]) == (0, 2, 0)
    assert svc.records.count("lead") == 2


def test_the_job_says_where_its_time_went(standard_pack, xlsx):
    svc = standard_pack
    rows = [[f"客户{i}", f"139{i:08d}", None, "上海", f"公司{i % 3}", None, None] for i in range(12)]
    done = run_import(svc, create_import(svc, xlsx([HEADER, *rows]), "t.xlsx", "lead", batch_size=5)["id"])
    stages = done["seconds"]["stages"]
    assert sorted(stages) == sorted(runner.STAGES)  # (PostgreSQL keeps JSON keys in its own order)
    assert all(v >= 0 for v in stages.values()) and stages["insert"] > 0
    assert sum(stages.values()) <= done["seconds"]["elapsed"] + 0.05


def test_crash_resumes_after_the_last_committed_batch(standard_pack, xlsx, monkeypatch):
    svc = standard_pack
    rows = [[f"客户{i}", f"139{i:08d}", None, "上海", None, None, None] for i in range(25)]
    job = create_import(svc, xlsx([HEADER, *rows]), "big.xlsx", "lead", batch_size=10)
    real = runner._import_batch
    calls = {"n": 0}

    def flaky(run, conn, batch):
        calls["n"] += 1
        if calls["n"] == 2:
            real(run, conn, batch)  # the batch's writes happen, then the process "dies"
            raise RuntimeError("worker killed")
        return real(run, conn, batch)

    monkeypatch.setattr(runner, "_import_batch", flaky)
    with pytest.raises(RuntimeError):
        run_import(svc, job["id"])
    with reading(svc.engine) as conn:
        state = runner.get_import(conn, job["id"])
    assert state["status"] == "failed" and state["rows_done"] == 10 and "worker killed" in state["error"]
    assert svc.records.count("lead") == 10  # the second batch rolled back whole
    monkeypatch.setattr(runner, "_import_batch", real)
    done = run_import(svc, job["id"])
    assert (done["status"], done["created"], done["rows_done"], done["already_imported"]) == ("done", 25, 25, 0)
    assert svc.records.count("lead") == 25


def test_template_constants_and_relation_titles(standard_pack, xlsx):
    from metacrm.engines.imports.mapping import get_template, save_template

    svc = standard_pack
    channel = svc.records.create("channel", {"name": "2026 trade show", "code": "ts2026", "kind": "trade_show"})
    obj = svc.registry.current().object("lead")
    with svc.engine.begin() as conn:
        save_template(conn, "trade_show", obj, {"Full name": "name", "Mobile no.": "phone"},
                      {"channel": "2026 trade show", "source_detail": "booth A1"})
        assert get_template(conn, "trade_show")["constants"]["source_detail"] == "booth A1"
    path = xlsx([["Full name", "Mobile no.", "ignored"], ["Ann", "13300133000", "x"]])
    job = create_import(svc, path, "t.xlsx", "lead", template="trade_show")
    assert job["mapping"] == {"Full name": "name", "Mobile no.": "phone"}
    done = run_import(svc, job["id"])
    assert done["created"] == 1
    lead = svc.records.list("lead")[0]
    assert lead["channel"] == channel["id"] and lead["source_detail"] == "booth A1"


def test_unknown_relation_title_is_a_row_error(standard_pack, xlsx):
    svc = standard_pack
    path = xlsx([["name", "channel"], ["Ann", "nowhere"]])
    done = run_import(svc, create_import(svc, path, "t.xlsx", "lead")["id"])
    assert done["failed"] == 1
    with reading(svc.engine) as conn:
        [row] = runner.error_rows(conn, done["id"])
    assert row["problems"][0]["code"] == "unknown_reference" and row["cells"] == ["Ann", "nowhere"]


def test_csv_in_gb18030_and_utf8_bom(standard_pack, tmp_path):
    svc = standard_pack
    text = "姓名,手机号,城市\n王伟,13800138000,上海\n李娜,13900139000,北京\n"
    for i, (encoding, raw) in enumerate([("gb18030", text.encode("gb18030")),
                                         ("utf-8-sig", text.replace("13800138000", "13800138001")
                                          .replace("13900139000", "13900139001").encode("utf-8-sig"))]):
        path = tmp_path / f"leads{i}.csv"
        path.write_bytes(raw)
        job = create_import(svc, path, path.name, "lead")
        assert job["encoding"] == encoding and job["mapping"]["姓名"] == "name"
        assert run_import(svc, job["id"])["created"] == 2
    assert {r["city"] for r in svc.records.list("lead")} == {"shanghai", "beijing"}


def test_bad_mapping_is_refused(standard_pack, xlsx):
    from metacrm.errors import ValidationError

    svc = standard_pack
    path = xlsx([["a", "b"], ["x", "y"]])
    with pytest.raises(ValidationError) as err:
        create_import(svc, path, "t.xlsx", "lead", mapping={"a": "nope", "c": "name"})
    codes = {p.code for p in err.value.problems}
    assert codes == {"unknown_field", "unknown_column"}


def test_sweeper_requeues_an_import_whose_worker_died(standard_pack, xlsx, monkeypatch):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from metacrm.engines.imports import jobs
    from metacrm.engines.imports.tables import import_jobs

    svc = standard_pack
    job = create_import(svc, xlsx([HEADER, *ROWS[:2]]), "a.xlsx", "lead")
    with svc.engine.begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.id == job["id"]).values(
            status="running", updated_at=datetime.now(UTC) - timedelta(hours=1)))
    started = []
    monkeypatch.setattr(jobs, "start_import", lambda services, job_id: started.append(job_id))
    assert jobs.sweep_stalled_imports(svc) == 1 and started == [job["id"]]
    assert jobs.sweep_stalled_imports(svc) == 0
    assert run_import(svc, job["id"])["created"] == 2
