"""The admin console at /admin (Flask-Admin), for administrators only.

Users, teams, roles and permissions are edited here; API tokens can be revoked; definitions,
their version history (with a read-only diff) and the record events (audit) are read-only; every
object's records get a generated read view from the live metadata. Login is the API's session
(the same cookie), with a small form at /admin/login.
"""

from __future__ import annotations

import difflib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, abort, g, redirect, request, session, url_for
from flask_admin import Admin, AdminIndexView, BaseView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_sqlalchemy import SQLAlchemy
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import scoped_session, sessionmaker
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice

from ..auth import tables as auth_tables
from ..auth.accounts import authenticate
from ..auth.passwords import hash_password
from ..auth.permissions import SCOPES
from ..auth.principal import SESSION_USER
from ..auth.sessions import SESSION_GENERATION, bump_generation, generation, session_principal
from ..errors import MetaCRMError
from ..meta.secrets import masked
from ..store import system
from ..store.db import reading
from ..store.services import Services
from . import admin_models as m

LOGIN_CSRF = "admin_login_csrf"


def _is_admin(services: Services) -> bool:
    """Decided once per request (every menu entry asks again while the page renders)."""
    if "metacrm_is_admin" not in g:
        uid = session.get(SESSION_USER)
        who = None
        if isinstance(uid, int):
            with reading(services.engine) as conn:
                who = session_principal(conn, uid, session.get(SESSION_GENERATION))
        g.metacrm_is_admin = who is not None and who.is_admin
    return bool(g.metacrm_is_admin)


class Secured:
    """Every console page: administrators only; others are sent to log in (or refused)."""

    services: Services

    def is_accessible(self) -> bool:
        return _is_admin(self.services)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if isinstance(session.get(SESSION_USER), int):
            abort(403)
        return redirect(url_for("metacrm_admin_login.login", next=request.path))


class IndexView(Secured, AdminIndexView):
    @expose("/")
    def index(self) -> Any:
        snap = self.services.registry.current()
        counts = {name: self.services.records.count(name) for name in snap.objects}
        return self.render("metacrm_admin/index.html", counts=counts, revision=snap.revision)


class SecuredModelView(Secured, ModelView):
    form_base_class = SecureForm
    page_size = 50
    can_view_details = True

    def __init__(self, services: Services, model: type, session_: SQLAlchemy, **kw: Any) -> None:
        self.services = services
        super().__init__(model, session_, **kw)


class ReadOnlyView(SecuredModelView):
    can_create = can_edit = can_delete = False


class UserView(SecuredModelView):
    column_list = ("id", "username", "display_name", "email", "language", "active", "is_admin", "created_at")
    column_searchable_list = ("username", "display_name", "email")
    column_filters = ("active", "is_admin", "language")
    form_columns = ("username", "display_name", "email", "language", "active", "is_admin", "new_password")
    form_extra_fields = {"new_password": PasswordField("New password (leave empty to keep)")}
    column_details_exclude_list = ("password_hash",)
    can_delete = False  # records point at users: deactivate instead

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        if is_created:
            model.created_at = datetime.now(UTC)
        password = form.new_password.data if hasattr(form, "new_password") else None
        if password:
            model.password_hash = hash_password(password)
        if not is_created and (password or not model.active):  # a new password or deactivation ends sessions
            bump_generation(self.session.connection(), model.id)


class ChoicesView(SecuredModelView):
    """A grant table keyed by ids and names: its key columns are pickers filled when the form opens.

    Flask-Admin leaves primary-key columns out of forms unless named, and an id typed by hand was
    an IntegrityError page; pickers offer only roles, teams, users and objects that exist."""

    pickers: dict[str, str] = {}  # column -> what it picks: role | team | user | object

    def _choices(self, what: str) -> list[tuple[Any, str]]:
        if what == "object":
            return [("*", "* (every object)"), *((n, n) for n in sorted(self.services.registry.current().objects))]
        table = {"role": auth_tables.roles, "team": auth_tables.teams, "user": system.users}[what]
        name = table.c.username if what == "user" else table.c.name
        with reading(self.services.engine) as conn:
            return [(i, n) for i, n in conn.execute(select(table.c.id, name).order_by(name))]

    def _fill(self, form: Any) -> Any:
        for column, what in self.pickers.items():
            getattr(form, column).choices = self._choices(what)
        return form

    def create_form(self, obj: Any = None) -> Any:
        return self._fill(super().create_form(obj))

    def edit_form(self, obj: Any = None) -> Any:
        return self._fill(super().edit_form(obj))


class PermissionView(ChoicesView):
    column_list = ("role_id", "object", "can_read", "can_create", "can_update", "can_delete", "scope",
                   "hidden_fields", "readonly_fields")
    form_columns = ("role_id", "object", "can_read", "can_create", "can_update", "can_delete", "scope",
                    "hidden_fields", "readonly_fields")
    pickers = {"role_id": "role", "object": "object"}
    form_overrides = {"scope": SelectField, "role_id": SelectField, "object": SelectField}
    form_args = {"scope": {"choices": [SelectChoice(s, s) for s in SCOPES]},
                 "role_id": {"coerce": int, "label": "Role"}, "object": {"label": "Object"}}


class UserRoleView(ChoicesView):
    column_list = form_columns = ("user_id", "role_id")
    pickers = {"user_id": "user", "role_id": "role"}
    form_overrides = {"user_id": SelectField, "role_id": SelectField}
    form_args = {"user_id": {"coerce": int, "label": "User"}, "role_id": {"coerce": int, "label": "Role"}}


class TeamMemberView(ChoicesView):
    column_list = form_columns = ("team_id", "user_id")
    pickers = {"team_id": "team", "user_id": "user"}
    form_overrides = {"team_id": SelectField, "user_id": SelectField}
    form_args = {"team_id": {"coerce": int, "label": "Team"}, "user_id": {"coerce": int, "label": "User"}}


class TokenView(SecuredModelView):
    column_list = ("id", "user_id", "name", "prefix", "created_at", "last_used_at", "revoked", "revoked_at")
    column_exclude_list = ("token_hash",)
    column_details_exclude_list = ("token_hash",)
    can_create = can_delete = False
    form_columns = ("name", "revoked")

    def on_model_change(self, form: Any, model: Any, is_created: bool) -> None:
        if model.revoked and model.revoked_at is None:
            model.revoked_at = datetime.now(UTC)


def _version_link(view: Any, context: Any, model: Any, name: str) -> Markup:
    url = url_for("metacrm_diff.index", kind=model.kind, name=model.name, version=model.version)
    return Markup('<a href="{}">diff</a>').format(url)


class VersionView(ReadOnlyView):
    column_list = ("kind", "name", "version", "action", "created_at", "created_by", "note", "diff")
    column_filters = ("kind", "name", "action")
    column_searchable_list = ("name",)
    column_default_sort = ("id", True)
    column_formatters = {"diff": _version_link}
    column_details_exclude_list = ("body",)  # secrets: the diff view shows the body masked


class DefinitionView(ReadOnlyView):
    column_list = ("kind", "name", "version", "updated_at", "updated_by")
    column_details_exclude_list = ("body",)
    column_filters = ("kind",)
    column_searchable_list = ("name",)


class EventView(ReadOnlyView):
    column_list = ("id", "object", "record_id", "kind", "actor_id", "at", "changes")
    column_filters = ("object", "record_id", "kind", "actor_id")
    column_default_sort = ("id", True)
    column_formatters = {"changes": lambda v, c, model, n: json.dumps(model.changes, ensure_ascii=False)[:300]}


class DiffView(Secured, BaseView):
    """A definition version against the one before it, as a unified diff (read-only)."""

    def __init__(self, services: Services, **kw: Any) -> None:
        self.services = services
        super().__init__(**kw)

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self) -> Any:
        kind, name = request.args.get("kind", ""), request.args.get("name", "")
        try:
            version = int(request.args.get("version", "0"))
        except ValueError:
            abort(404)
        history = self.services.metadata.history(kind, name)
        by_version = {row["version"]: row for row in history}
        if version not in by_version:
            abort(404)
        before = by_version.get(version - 1)
        old = _pretty(before["body"], None) if before else []
        new = _pretty(by_version[version]["body"], before["body"] if before else None)
        diff = list(difflib.unified_diff(old, new, f"{kind}/{name} v{version - 1}", f"{kind}/{name} v{version}",
                                         lineterm=""))
        return self.render("metacrm_admin/diff.html", kind=kind, name=name, version=version,
                           row=by_version[version], diff=diff, versions=sorted(by_version))


def _pretty(body: str, other: str | None) -> list[str]:
    """The body with its secrets masked ('*** (changed)' where `other` differs)."""
    against = json.loads(other) if other is not None else None
    return json.dumps(masked(json.loads(body), against), indent=2, ensure_ascii=False).splitlines()


class RecordsView(Secured, BaseView):
    """A generated read view of every object's records, from the live metadata."""

    def __init__(self, services: Services, **kw: Any) -> None:
        self.services = services
        super().__init__(**kw)

    @expose("/")
    def index(self) -> Any:
        snap = self.services.registry.current()
        return self.render("metacrm_admin/objects.html", objects=list(snap.objects.values()))

    @expose("/<object_name>/")
    def list_view(self, object_name: str) -> Any:
        snap = self.services.registry.current()
        if object_name not in snap.objects:
            abort(404)
        obj = snap.objects[object_name]
        after = request.args.get("after", type=int)
        rows = self.services.records.list(object_name, limit=50, after_id=after)
        columns = ["id", *list(obj.fields)[:8], "owner_id", "updated_at"]
        return self.render("metacrm_admin/records.html", obj=obj, rows=rows, columns=columns,
                           next_after=rows[-1]["id"] if len(rows) == 50 else None)

    @expose("/<object_name>/<int:record_id>")
    def detail_view(self, object_name: str, record_id: int) -> Any:
        snap = self.services.registry.current()
        if object_name not in snap.objects:
            abort(404)
        try:
            record = self.services.records.get(object_name, record_id, include_deleted=True)
        except MetaCRMError:
            abort(404)
        from ..store.events import timeline

        with self.services.engine.connect() as conn:
            events = timeline(conn, object_name, record_id, limit=200)
        return self.render("metacrm_admin/record.html", obj=snap.objects[object_name], record=record,
                           events=events, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def _login_blueprint(services: Services) -> Blueprint:
    bp = Blueprint("metacrm_admin_login", __name__, template_folder="templates")

    @bp.route("/admin/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            expected = session.get(LOGIN_CSRF, "")
            if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
                abort(400)
            with services.engine.begin() as conn:
                uid = authenticate(conn, request.form.get("username"), request.form.get("password"))
                gen = generation(conn, uid) if uid is not None else 0
            if uid is not None:
                session.clear()
                session[SESSION_USER] = uid
                session[SESSION_GENERATION] = gen
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/admin") else "/admin/")
            error = "Wrong username or password."
        session[LOGIN_CSRF] = secrets.token_urlsafe(24)
        from flask import render_template

        return render_template("metacrm_admin/login.html", csrf=session[LOGIN_CSRF], error=error)

    @bp.post("/admin/logout")
    def logout() -> Any:
        session.clear()
        return redirect("/admin/login")

    return bp


def _db(services: Services) -> SQLAlchemy:
    """What Flask-Admin 2 wants for its model views: a Flask-SQLAlchemy object (passing a bare
    session is deprecated there). Ours is never bound to an app; its session is a scoped ORM
    session over the services' own engine, so the console shares the pool and the SQLite set-up."""
    db = SQLAlchemy()
    db.session = scoped_session(sessionmaker(bind=services.engine))
    return db


def init_admin(app: Flask, services: Services) -> Admin:
    """Attach the console to an app (one Admin per app; ORM session over the services' engine)."""
    db = _db(services)
    app.teardown_appcontext(lambda exc: db.session.remove())
    app.register_blueprint(_login_blueprint(services))
    index = IndexView(name="MetaCRM", url="/admin")
    index.services = services
    admin = Admin(app, name="MetaCRM admin", url="/admin", index_view=index)
    people = "Accounts"
    admin.add_view(UserView(services, m.User, db, name="Users", category=people, endpoint="admin_users", url="users"))
    admin.add_view(SecuredModelView(services, m.Team, db, name="Teams", category=people, endpoint="admin_teams", url="teams"))
    admin.add_view(TeamMemberView(services, m.TeamMember, db, name="Team members", category=people,
                                  endpoint="admin_team_members", url="team_members"))
    admin.add_view(SecuredModelView(services, m.Role, db, name="Roles", category=people, endpoint="admin_roles", url="roles"))
    admin.add_view(UserRoleView(services, m.UserRole, db, name="User roles", category=people,
                                endpoint="admin_user_roles", url="user_roles"))
    admin.add_view(PermissionView(services, m.Permission, db, name="Permissions", category=people,
                                  endpoint="admin_permissions", url="permissions"))
    admin.add_view(TokenView(services, m.ApiToken, db, name="API tokens", category=people, endpoint="admin_tokens", url="tokens"))
    meta = "Definitions"
    admin.add_view(DefinitionView(services, m.Definition, db, name="Definitions", category=meta,
                                  endpoint="admin_definitions", url="definitions"))
    admin.add_view(VersionView(services, m.DefinitionVersion, db, name="Versions", category=meta,
                               endpoint="admin_versions", url="versions"))
    admin.add_view(DiffView(services, name="Diff", endpoint="metacrm_diff", url="/admin/diff"))
    admin.add_view(EventView(services, m.RecordEvent, db, name="Audit (record events)", endpoint="admin_events", url="events"))
    admin.add_view(RecordsView(services, name="Records", endpoint="metacrm_records", url="/admin/records"))
    return admin
