"""`metacrm demo` leaves logins that work: an administrator, a team manager and two reps whose own
records are enough for a working day."""

from __future__ import annotations

import pytest

from metacrm.api.app import create_app
from metacrm.cli.demo import DEMO_LOGINS
from metacrm.config import Settings
from metacrm.engines.wiring import build_services


@pytest.fixture
def demo_client(run, db_url, tmp_path):
    out = run("demo", "--no-serve", "--scale", "0.05").output
    again = run("demo", "--no-serve", "--scale", "0.05").output  # the same logins again, nothing added
    svc = build_services(Settings(database_url=db_url, secret_key="s", instance_dir=tmp_path / "instance"))
    app = create_app(svc.settings, svc)
    app.config["TESTING"] = True
    yield app, out, again
    svc.close()


def login(app, username, password):
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, (username, r.json)
    return client, r.json


def test_demo_logins(demo_client):
    app, out, again = demo_client
    for username, password, _, _ in DEMO_LOGINS:
        assert f"{username:<12} {password}" in out and f"{username:<12} {password}" in again
    _, admin = login(app, "admin", "admin-demo-1")
    assert admin["user"]["is_admin"]
    counts = {}
    for username, password, role, _ in DEMO_LOGINS[1:]:
        client, body = login(app, username, password)
        assert body["user"]["roles"] == [role] and not body["user"]["is_admin"]
        me = client.get("/api/v1/me").json
        leads = client.get("/api/v1/records/lead?count=true&limit=1000").json
        counts[username] = leads["count"]
        assert counts[username] > 0
        owners = {r["owner_id"] for r in leads["items"]}
        if role == "sales_rep":
            assert owners == {me["id"]}
            assert me["permissions"]["lead"]["scope"] == "own" and not me["permissions"]["lead"]["delete"]
            tasks = client.get('/api/v1/records/activity?filter={"field":"type","op":"eq","value":"task"}'
                               '&limit=1000').json["items"]
            assert sum(1 for t in tasks if not t["done"] and t["remind_at"]) >= 3
        else:
            assert len(owners) == 5  # both teams: everybody but the administrator
    assert counts["li.na"] > counts["zhang.wei"] + counts["john.smith"]
    r = app.test_client().post("/api/v1/auth/login", json={"username": "wang.fang", "password": ""})
    assert r.status_code == 401
