"""Imports honour the importer's data scope and field rules on every batch, resume and template."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import Workbook
from sqlalchemy import update

from metacrm.engines.imports import jobs
from metacrm.engines.imports.runner import create_import, run_import
from metacrm.engines.imports.tables import import_jobs


def _xlsx(rows) -> io.BytesIO:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def _upload(api, rows, **form):
    data = {"object": "lead", "file": (_xlsx(rows), "leads.xlsx"), **form}
    return api.client.post("/api/v1/imports?wait=true", data=data, headers=api._headers(None),
                           content_type="multipart/form-data")


def _rep(make_user, name="rep", **kw):
    return make_user(name, grants=[("lead", ["read", "create", "update"], "own")], **kw)


def test_duplicates_outside_scope_are_reported_without_their_id(admin, make_user):
    created = admin.send("POST", "/records/lead", {"name": "老客户", "phone": "13800000077", "notes": "admin's"})
    assert created.status_code == 201, created.json
    theirs = created.json["id"]
    rep = _rep(make_user)
    for policy in ("skip", "merge", "flag"):
        resp = _upload(rep, [["姓名", "手机号", "备注"], [f"新名字 {policy}", "13800000077", "rep's"]], on_duplicate=policy)
        assert resp.status_code == 200, resp.json
        job = resp.json
        assert job["created"] == 0 and job["skipped"] == 1, (policy, job)
        items = rep.get(f"/imports/{job['id']}/outcomes").json["items"]
        assert items[0]["action"] == "outside_access" and items[0]["record_id"] is None
        assert theirs not in (items[0]["record_id"], *items[0]["detail"].values())
        assert "outside your access" in items[0]["detail"]["message"]
    lead = admin.get(f"/records/lead/{theirs}").json
    assert (lead["name"], lead["notes"]) == ("老客户", "admin's")
    # an own record is matched as before, with its id
    mine = rep.send("POST", "/records/lead", {"name": "我的", "phone": "13800000078"}).json["id"]
    job = _upload(rep, [["姓名", "手机号"], ["我的", "13800000078"]], on_duplicate="skip").json
    assert rep.get(f"/imports/{job['id']}/outcomes").json["items"][0]["record_id"] == mine


def test_only_admins_may_import_past_outside_matches(admin, make_user):
    admin.send("POST", "/records/lead", {"name": "A", "phone": "13800000079"})
    rep = _rep(make_user)
    assert _upload(rep, [["姓名", "手机号"], ["B", "13800000079"]], outside_scope="import").status_code == 403
    job = _upload(admin, [["姓名", "手机号"], ["B", "13800000079"]], on_duplicate="skip").json
    assert job["skipped"] == 1


def test_a_refused_import_is_not_resumable(admin, make_user, standard_pack):
    clerk = _rep(make_user, "clerk", readonly={"lead": ["notes"]})
    resp = _upload(clerk, [["姓名", "备注"], ["Ann", "note"]])
    assert resp.status_code == 403
    jobs_ = admin.get("/imports").json["items"]
    refused = next(j for j in jobs_ if j["created_by"] is not None and j["status"] == "refused")
    assert clerk.post(f"/imports/{refused['id']}/resume?wait=true").status_code == 403
    assert admin.post(f"/imports/{refused['id']}/resume?wait=true").status_code == 403
    listed = admin.get("/records/lead?limit=200").json["items"]
    assert not [r for r in listed if r.get("notes") == "note"]


def test_permissions_are_checked_on_every_batch(make_user, standard_pack, tmp_path):
    from metacrm.auth.accounts import role_id
    from metacrm.auth.tables import permissions

    svc = standard_pack
    rep = _rep(make_user, "batcher")
    path = tmp_path / "rows.xlsx"
    path.write_bytes(_xlsx([["姓名", "备注"], ["A", "x"], ["B", "y"]]).getvalue())
    job = create_import(svc, path, "rows.xlsx", "lead", actor_id=rep.user_id, batch_size=1)
    with svc.engine.begin() as conn:  # the role loses write access to notes after the job was checked
        conn.execute(update(permissions).where(permissions.c.role_id == role_id(conn, "role_batcher"))
                     .values(readonly_fields=["notes"]))
    try:
        run_import(svc, job["id"])
        raise AssertionError("the run should have been refused")
    except Exception as exc:  # PermissionDenied
        assert getattr(exc, "status", None) == 403
    with svc.engine.connect() as conn:
        row = conn.execute(import_jobs.select().where(import_jobs.c.id == job["id"])).first()
    assert row.status == "refused" and row.created == 0


def test_shared_templates_are_changed_by_their_owner_or_admins(admin, make_user):
    one, two = _rep(make_user, "one"), _rep(make_user, "two")
    body = {"object": "lead", "mapping": {"Who": "name"}}
    assert one.send("PUT", "/import-templates/booth", body).status_code == 200
    assert one.send("PUT", "/import-templates/booth", {**body, "label": "mine"}).status_code == 200
    assert two.send("PUT", "/import-templates/booth", {**body, "mapping": {"Who": "company"}}).status_code == 403
    assert admin.send("PUT", "/import-templates/booth", {**body, "label": "fixed"}).status_code == 200
    item = admin.get("/import-templates?object=lead").json["items"][0]
    assert item["mapping"] == {"Who": "name"} and item["created_by"] == one.user_id


def test_sweeper_hands_out_lost_pending_imports(standard_pack, tmp_path, monkeypatch):
    svc = standard_pack
    path = tmp_path / "lost.xlsx"
    path.write_bytes(_xlsx([["姓名"], ["Lost"]]).getvalue())
    job = create_import(svc, path, "lost.xlsx", "lead")  # queued nowhere: Redis lost it
    started: list[int] = []
    monkeypatch.setattr(jobs, "start_import", lambda services, job_id: started.append(job_id))
    assert jobs.sweep_stalled_imports(svc) == 0  # fresh: a worker may still take it
    with svc.engine.begin() as conn:
        conn.execute(update(import_jobs).where(import_jobs.c.id == job["id"]).values(
            updated_at=datetime.now(UTC) - timedelta(seconds=jobs.LOST_SECONDS + 1)))
    assert jobs.sweep_stalled_imports(svc) == 1 and started == [job["id"]]
    assert run_import(svc, job["id"])["created"] == 1
    assert run_import(svc, job["id"])["created"] == 1  # a second queue entry changes nothing
    assert jobs.STALE_SECONDS + 20 <= 60  # a dead worker's import is handed out within a minute
