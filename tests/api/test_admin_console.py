"""The admin console: administrators only; accounts editable; definitions, diffs, audit and records readable."""

import re


def admin_login(app, username, password="correct horse"):
    client = app.test_client()
    page = client.get("/admin/login")
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page.data).group(1).decode()
    r = client.post("/admin/login", data={"csrf": csrf, "username": username, "password": password})
    return client, r


def test_console_is_for_admins_only(app, admin, make_user):
    make_user("clerk", grants=[("lead", ["read"], "all")])
    anonymous = app.test_client()
    r = anonymous.get("/admin/")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert anonymous.get("/admin/users/").status_code == 302
    clerk, r = admin_login(app, "clerk")
    assert r.status_code == 302
    for path in ("/admin/", "/admin/users/", "/admin/permissions/", "/admin/events/", "/admin/records/lead/"):
        assert clerk.get(path).status_code == 403, path
    _, r = admin_login(app, "admin", "wrong password")
    assert r.status_code == 200 and b"Wrong username or password" in r.data
    r = app.test_client().post("/admin/login", data={"csrf": "forged", "username": "admin", "password": "x"})
    assert r.status_code == 400


def test_console_pages(app, admin, standard_pack):
    admin.post("/records/lead", {"name": "<img src=x onerror=alert(1)>", "city": "shanghai"})
    doc = admin.get("/definitions/object/channel").json
    doc["properties"]["note"] = {"x-field": "text", "x-label": {"en": "Note"}}
    assert admin.send("PUT", "/definitions/object/channel", doc).status_code == 200
    client, r = admin_login(app, "admin")
    assert r.status_code == 302
    for path in ("/admin/", "/admin/users/", "/admin/teams/", "/admin/roles/", "/admin/permissions/",
                 "/admin/user_roles/", "/admin/team_members/", "/admin/tokens/", "/admin/definitions/",
                 "/admin/versions/", "/admin/events/", "/admin/records/", "/admin/records/lead/",
                 "/admin/records/lead/1", "/admin/users/new/", "/admin/permissions/new/"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
    lead_page = client.get("/admin/records/lead/").data
    assert b"<img src=x" not in lead_page and b"&lt;img src=x" in lead_page
    diff = client.get("/admin/diff/?kind=object&name=channel&version=2").data.decode()
    assert '+    &#34;note&#34;' in diff or "+    &#34;note&#34;" in diff or '"note"' in diff
    assert client.get("/admin/diff/?kind=object&name=channel&version=9").status_code == 404
    assert client.get("/admin/records/nope/").status_code == 404


def test_admin_edits_users_and_grants(app, admin, standard_pack, make_user):
    client, _ = admin_login(app, "admin")
    form = client.get("/admin/users/new/").data.decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    r = client.post("/admin/users/new/", data={"csrf_token": csrf, "username": "newbie", "display_name": "New",
                                               "language": "en", "active": "y", "new_password": "a good password"})
    assert r.status_code == 302
    r = app.test_client().post("/api/v1/auth/login", json={"username": "newbie", "password": "a good password"})
    assert r.status_code == 200


def _csrf(client, path):
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).data.decode()).group(1)


def test_console_grants_a_permission_with_pickers(app, admin, standard_pack, make_user):
    """The permission form offers role and object pickers (they were missing: an IntegrityError page);
    the grant it saves takes effect; a second grant of the same role and object is refused in a message."""
    clerk = make_user("clerk")
    assert clerk.get("/records/lead").status_code == 403
    with standard_pack.engine.begin() as conn:
        from metacrm.auth import accounts

        rid = accounts.ensure_role(conn, "lead_readers")
        accounts.assign_role(conn, clerk.user_id, rid)
    client, _ = admin_login(app, "admin")
    form = client.get("/admin/permissions/new/").data.decode()
    assert 'name="role_id"' in form and ">lead_readers<" in form
    assert 'name="object"' in form and 'value="lead"' in form
    data = {"csrf_token": _csrf(client, "/admin/permissions/new/"), "role_id": str(rid), "object": "lead",
            "can_read": "y", "scope": "all", "hidden_fields": "", "readonly_fields": ""}
    r = client.post("/admin/permissions/new/", data=data)
    assert r.status_code == 302, r.data.decode()[:2000]
    assert clerk.get("/records/lead").status_code == 200
    data["csrf_token"] = _csrf(client, "/admin/permissions/new/")
    r = client.post("/admin/permissions/new/", data=data, follow_redirects=True)
    assert r.status_code == 200 and b"Traceback" not in r.data
    assert b"ntegrity" in r.data or b"already" in r.data


def test_console_adds_team_members_and_user_roles_with_pickers(app, admin, standard_pack, make_user):
    make_user("member1")
    with standard_pack.engine.begin() as conn:
        from metacrm.auth import accounts

        tid = accounts.ensure_team(conn, "north")
    client, _ = admin_login(app, "admin")
    form = client.get("/admin/team_members/new/").data.decode()
    assert ">north<" in form and ">member1<" in form
    uid = int(re.search(r'<option value="(\d+)">member1</option>', form).group(1))
    r = client.post("/admin/team_members/new/", data={"csrf_token": _csrf(client, "/admin/team_members/new/"),
                                                      "team_id": str(tid), "user_id": str(uid)})
    assert r.status_code == 302
    form = client.get("/admin/user_roles/new/").data.decode()
    assert 'name="role_id"' in form and 'name="user_id"' in form
