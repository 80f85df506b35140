"""In-place migrations of object tables (and system tables), planned against the live database.

`plan_object` compares the new definition of an object with the table as it really is (columns
introspected by store.columns: type, length, precision and scale; indexes; foreign keys) and with
the stored data where it matters (store.type_changes: values longer than a new length, numbers
with more digits than a new decimal, values that would not convert, ids missing in a new relation
target). It returns the actions that bring the table in line and the problems that refuse the
change. A change that would cut, round or lose any stored value is refused whatever the flags;
`force` only confirms changes that lose nothing (a narrower declaration every value fits, a
conversion every value survives, a removed field whose column and data are kept).

`apply_actions` runs the actions inside the caller's transaction (DDL is transactional on both
back ends, see db.py), with the DDL of store.ddl: explicit conversions, short lock timeouts with
retries on PostgreSQL, column rebuilds on SQLite. Only indexes the engine declared are ever
dropped: a DBA's own `ix_...` index survives every apply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, column, func, literal, select
from sqlalchemy import table as plain_table
from sqlalchemy.exc import DBAPIError

from ..errors import DestructiveChange, Problem
from ..meta.fields import CoercionError
from ..meta.objects import MISSING, FieldDef, ObjectDef
from . import ddl
from .columns import LiveTable, live_table, shape_of
from .online import CONCURRENTLY
from .renames import count_renamed, rewrite_options
from .tables import build_tables, constraint_name
from .type_changes import EXAMPLES, SAFE_CONVERSIONS, assess, convert_expression, quote_value


@dataclass(frozen=True)
class TableAction:
    """One step of a table migration, described for people and runnable against a connection."""

    # create_table | add_column | backfill | alter_type | retarget | require | unrequire | add_index | drop_index
    # | retire_column | rename_column | rename_options
    op: str
    table: str
    target: str
    description: str
    destructive: bool = False
    value: Any = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.op} {self.table}.{self.target}: {self.description}"


# Indexes the search engine keeps itself (engines/search.py); no object definition declares them,
# so the planner must never offer to drop them.
SEARCH_INDEX_PREFIX = "ix_search_"


def _cite(reason: str, examples: list[str]) -> str:
    return f"{reason}; e.g. {', '.join(examples)}" if examples else reason


class _Planner:
    """Collects the actions and refusals for one object."""

    def __init__(self, conn: Connection, old: ObjectDef | None, new: ObjectDef, table: Table,
                 live: LiveTable, force: bool) -> None:
        self.conn, self.old, self.new, self.table, self.live, self.force = conn, old, new, table, live, force
        self.at = f"object {new.name}"
        self.actions: list[TableAction] = []
        self.problems: list[Problem] = []
        self.alive = table.c.deleted_at.is_(None)
        self.renamed = _renames(old, new, live)  # new field name -> the live column it takes over

    def col(self, name: str) -> Any:
        """The column holding field `name`'s values now (before a planned rename runs)."""
        if name in self.renamed:
            return column(self.renamed[name], self.table.c[name].type)
        return self.table.c[name]

    def refuse(self, name: str, code: str, message: str, forceable: bool,
               action: TableAction | None = None) -> None:
        if forceable and self.force:
            if action:
                self.actions.append(action)
            return
        hint = " (use force to apply anyway; no stored value is lost)" if forceable else ""
        self.problems.append(Problem(f"{self.at}/properties/{name}", code, message + hint))

    def count(self, where: Any) -> int:
        return int(self.conn.execute(select(func.count()).select_from(self.table).where(where)).scalar_one())

    # --- one field ---------------------------------------------------------------------------

    def field(self, name: str, f: FieldDef) -> None:
        at = self.renamed.get(name, name)  # the live column
        before = self.old.fields.get(at) if self.old else None
        if at not in self.live.columns:
            self.new_column(name, f)
            return
        if at != name:
            self.rename(name, at)
        self.type_change(name, f, before)
        if f.type.is_relation:
            self.relation_target(name, f)
        if before is None:
            # a column kept from an earlier, removed field of this name comes back: its empty
            # values get the default like a new column's
            if f.default is not MISSING and self.count(self.col(name).is_(None)):
                self.backfill(name, f, existing=True)
        elif f.type.name in ("select", "multiselect") and before.type.name in ("select", "multiselect"):
            self.options(name, f, before)
        elif before.type.name == f.type.name and f.type.name not in ("text", "decimal", "relation"):
            check = f.type.change_problem  # option removals; lengths and digits are checked live
            problem = check(before.schema, f.schema) if check else None
            if problem:
                self.refuse(name, "narrowing_change", f"field '{name}': {problem}", True)
        was_required = before.required if before else False
        if f.required and (not was_required or required_check(self.table.name, at) in self.live.unvalidated):
            self.require(name, f)
        elif was_required and not f.required and required_check(self.table.name, at) in self.live.checks:
            self.actions.append(TableAction("unrequire", self.table.name, name, "drop the NOT NULL check",
                                            value=required_check(self.table.name, name)))
        if f.unique and not (before.unique if before else False):
            dupes = _duplicates(self.conn, self.table, self.col(name))
            if dupes:
                self.refuse(name, "unique_has_duplicates",
                            f"{dupes} value(s) of '{name}' occur more than once; merge them first", False)

    def require(self, name: str, f: FieldDef) -> None:
        """A field becomes required: its empty values get the default (with force) and, on
        PostgreSQL, a check makes NULL impossible for every writer from then on."""
        filled = any(a.op in ("backfill", "backfill_batched") and a.target == name for a in self.actions)
        empty = 0 if filled else self.count(self.alive & self.col(name).is_(None))
        if empty:
            if f.default is MISSING:
                self.refuse(name, "required_has_empty", f"{empty} record(s) have no value for '{name}' and the "
                                                        f"field has no default to give them", False)
                return
            if not self.force:
                self.refuse(name, "required_has_empty", f"{empty} record(s) have no value for '{name}'; force "
                                                        f"fills them with the default {quote_value(f.default)}", True)
                return
            self.backfill(name, f, existing=True)
        live_check = required_check(self.table.name, self.renamed.get(name, name))
        if self.conn.dialect.name == "postgresql" and (live_check not in self.live.checks
                                                       or live_check in self.live.unvalidated):
            fill = None if f.default is MISSING else self.stored_default(f)
            exists = live_check in self.live.checks
            how = ("validate the NOT NULL check left unvalidated by an earlier apply" if exists else
                   "NOT NULL check, added NOT VALID; validated after the commit (no exclusive lock)")
            self.actions.append(TableAction("require", self.table.name, name, how,
                                            value=(required_check(self.table.name, name), fill, exists)))

    def stored_default(self, f: FieldDef) -> Any:
        try:
            return f.stored(f.default)
        except CoercionError:
            return None

    def new_column(self, name: str, f: FieldDef) -> None:
        # a required field's default stays on the column (PostgreSQL), so that a writer still holding
        # the previous definition never adds a NULL
        self.actions.append(TableAction("add_column", self.table.name, name, f"add {f.type.name} column",
                                        value="keep_default" if f.required else None))
        rows = self.count(self.alive)
        if f.default is not MISSING:
            if f.unique and rows > 1:
                self.refuse(name, "unique_default_on_filled_table",
                            f"unique field '{name}' cannot give its default {quote_value(f.default)} to the "
                            f"{rows} existing records", False)
                return
            self.backfill(name, f)
        elif f.required and rows:
            self.refuse(name, "required_without_default",
                        f"new required field '{name}' has no default for the {rows} existing record(s)", False)
            return
        if f.required:
            self.require(name, f)

    def backfill(self, name: str, f: FieldDef, existing: bool = False) -> None:
        try:
            value = f.stored(f.default)
        except CoercionError as exc:
            self.refuse(name, "invalid_default", f"default {quote_value(f.default)} of '{name}': {exc}", False)
            return
        if f.type.is_relation and value is not None and not self.target_has(name, [value]):
            self.refuse(name, "relation_default_missing",
                        f"default of relation '{name}' is id {value}, which does not exist in {f.target}", False)
            return
        if existing:  # no long row locks, an audit event per record: store.online
            self.actions.append(TableAction("backfill_batched", self.table.name, name,
                                            f"fill empty values with {quote_value(f.default)} after the commit, "
                                            f"5,000 rows per transaction", value=value))
            return
        self.actions.append(TableAction("backfill", self.table.name, name,
                                        f"fill empty values with {quote_value(f.default)}", value=value))

    def rename(self, name: str, at: str) -> None:
        check = required_check(self.table.name, at)
        checks = {check: required_check(self.table.name, name)} if check in self.live.checks else {}
        self.actions.append(TableAction("rename_column", self.table.name, name,
                                        f"rename column {at} -> {name} (x-renamed-from); its data is kept",
                                        value=(at, checks)))

    def options(self, name: str, f: FieldDef, before: FieldDef) -> None:
        """Renamed options rewrite the stored values; removed ones hide them (force)."""
        renames = {a: b for a, b in f.option_renames.items() if a not in f.options}
        if renames:  # counted as stored now; rewritten after a select -> multiselect conversion if any
            stored = count_renamed(self.conn, self.table.name, self.renamed.get(name, name), sorted(renames),
                                   before.type.name == "multiselect")
            if stored:
                pairs = ", ".join(f"{quote_value(a)} -> {quote_value(b)}" for a, b in sorted(renames.items()))
                self.actions.append(TableAction("rename_options", self.table.name, name,
                                                f"rewrite {stored} stored value(s): {pairs}",
                                                value=(renames, f.type.name == "multiselect")))
        removed = set(before.options) - set(f.options) - set(renames)
        if removed:
            self.refuse(name, "narrowing_change",
                        f"field '{name}': options removed: {', '.join(sorted(map(str, removed)))}", True)

    def type_change(self, name: str, f: FieldDef, before: FieldDef | None) -> None:
        at = self.renamed.get(name, name)
        have = self.live.columns[at].shape
        want = shape_of(self.table.c[name].type)
        result = assess(self.conn, self.table.name, at, have, want)
        declared = None
        if before is not None and before.type.name != f.type.name and f.type.name not in before.type.widens_to:
            declared = f"changing type {before.type.name} -> {f.type.name} is not a safe widening"
        if result.loses_data:
            code = "would_lose_data" if result.change != "convert" else "values_would_not_convert"
            self.problems.append(Problem(f"{self.at}/properties/{name}", code,
                                         _cite(f"field '{name}': {result.reason}", result.examples)
                                         + " (refused even with force: stored values are never cut or lost)"))
            return
        action = None
        if result.change != "none":
            how = result.reason or f"{have} -> {want}"
            if self.conn.dialect.name == "sqlite" and have.family == want.family:
                how += " (SQLite: declared type only, no value is rewritten)"
            action = TableAction("alter_type", self.table.name, name, how,
                                 destructive=result.change != "widen", value=(have, want))
        reason = declared
        if reason is None and result.change == "narrow":
            reason = result.reason
        if reason is None and result.change == "convert" and (have.family, want.family) not in SAFE_CONVERSIONS \
                and not (before is not None and f.type.name in before.type.widens_to):
            reason = f"changing type {have} -> {want} is not a safe widening ({result.reason})"
        if reason:
            self.refuse(name, "narrowing_change", f"field '{name}': {reason}", True, action)
        elif action:
            self.actions.append(action)

    def target_table(self, name: str) -> str:
        fk = next(iter(self.table.c[name].foreign_keys))
        return str(fk.target_fullname).split(".")[0]

    def target_has(self, name: str, ids: list[Any]) -> bool:
        target = self.target_table(name)
        if live_table(self.conn, target) is None:
            return False
        ident = plain_table(target, column("id")).c.id
        found = self.conn.execute(select(func.count()).where(ident.in_(ids))).scalar_one()
        return int(found) == len(set(ids))

    def relation_target(self, name: str, f: FieldDef) -> None:
        live_fk = self.live.foreign_keys.get(self.renamed.get(name, name))
        wanted = self.target_table(name)
        if live_fk is None or live_fk[1] == wanted:
            return
        missing, examples = self.missing_ids(name, wanted)
        if missing:
            self.problems.append(Problem(
                f"{self.at}/properties/{name}", "relation_ids_missing",
                _cite(f"relation '{name}' moves from {live_fk[1]} to {wanted}, but {missing} stored link(s) point at "
                      f"ids that do not exist there", examples) + " (refused even with force)"))
            return
        self.refuse(name, "relation_retarget",
                    f"relation '{name}' moves from {live_fk[1]} to {wanted}: every stored id exists there, but the "
                    f"links will point at the {wanted} records with those ids", True,
                    TableAction("retarget", self.table.name, name, f"foreign key -> {wanted}", destructive=True,
                                value=live_fk[0]))

    def missing_ids(self, name: str, target: str) -> tuple[int, list[str]]:
        at = self.renamed.get(name, name)
        col = plain_table(self.table.name, column(at)).c[at]
        where = col.is_not(None)
        if live_table(self.conn, target) is not None:
            where = where & col.not_in(select(plain_table(target, column("id")).c.id))
        count = int(self.conn.execute(select(func.count()).where(where)).scalar_one())
        examples = [quote_value(v) for v in self.conn.execute(
            select(col).where(where).distinct().limit(EXAMPLES)).scalars()]
        return count, examples

    # --- the whole table ---------------------------------------------------------------------

    def removed(self) -> None:
        for name in (self.old.fields if self.old else {}):
            if name not in self.new.fields and name not in self.renamed.values():
                self.refuse(name, "field_removed", f"removing field '{name}' hides its data", True,
                            TableAction("retire_column", self.table.name, name,
                                        "field removed from the definition; column and data kept", destructive=True))

    def indexes(self) -> None:
        wanted = {ix.name: ix for ix in self.table.indexes}
        online = self.conn.dialect.name == "postgresql"
        for name, ix in wanted.items():
            if name not in self.live.indexes:
                self.actions.append(TableAction(
                    "add_index", self.table.name, str(name),
                    ("unique " if ix.unique else "") + "index on " + ", ".join(c.name for c in ix.columns)
                    + (" (CREATE INDEX CONCURRENTLY after the commit: writes go on)" if online else ""),
                    value=CONCURRENTLY if online else None))
        owned = {str(ix.name) for ix in build_tables([self.old])[self.old.name].indexes} if self.old else set()
        for name in sorted(set(self.live.indexes) - set(wanted)):
            if name in owned and not name.startswith(SEARCH_INDEX_PREFIX):
                self.actions.append(TableAction("drop_index", self.table.name, name, "index no longer declared"))


def plan_object(conn: Connection, old: ObjectDef | None, new: ObjectDef, table: Table,
                force: bool = False) -> tuple[list[TableAction], list[Problem]]:
    """What applying `new` over `old` does to the object's table, and what refuses it."""
    live = live_table(conn, table.name)
    if live is None:
        required = tuple(n for n, f in new.fields.items() if f.required)
        return [TableAction("create_table", table.name, "*", f"create table with {len(new.fields)} fields",
                            value=required)], []
    planner = _Planner(conn, old, new, table, live, force)
    for name, f in new.fields.items():
        earlier = f.renamed_from
        if earlier and name in live.columns and earlier in live.columns and old and earlier in old.fields:
            planner.problems.append(Problem(
                f"object {new.name}/properties/{name}/x-renamed-from", "rename_target_exists",
                f"'{earlier}' cannot be renamed to '{name}': a column '{name}' already exists (the data of an "
                f"earlier, removed field); remove x-renamed-from to bring that data back instead"))
    for name, f in new.fields.items():
        planner.field(name, f)
    planner.removed()
    planner.indexes()
    return planner.actions, planner.problems


def _renames(old: ObjectDef | None, new: ObjectDef, live: LiveTable) -> dict[str, str]:
    """Fields declared `x-renamed-from` an existing column that no field of `new` keeps: new -> old."""
    out = {}
    for name, f in new.fields.items():
        earlier = f.renamed_from
        if earlier and name not in live.columns and earlier in live.columns and earlier not in new.fields:
            out[name] = earlier
    return out


def _duplicates(conn: Connection, table: Table, col: Any) -> int:
    grouped = (select(col).where(table.c.deleted_at.is_(None), col.is_not(None))
               .group_by(col).having(func.count() > 1).subquery())
    return int(conn.execute(select(func.count()).select_from(grouped)).scalar_one())


def _add_with_default(conn: Connection, table: Table, name: str, value: Any, keep: bool) -> bool:
    """PostgreSQL: ADD COLUMN ... DEFAULT is metadata-only (no rewrite, no long lock); unless `keep`
    the default is dropped right after, so it never outlives the backfill. False when the value has
    no SQL literal (JSON): then an UPDATE fills the column."""
    if conn.dialect.name != "postgresql" or value is None:
        return False
    col = table.c[name]
    try:
        if isinstance(value, (list, dict)):  # JSON (multiselect, json): a jsonb constant, metadata-only too
            rendered = str(literal(json.dumps(value, ensure_ascii=False)).compile(
                dialect=conn.dialect, compile_kwargs={"literal_binds": True})) + "::jsonb"
        else:
            rendered = str(literal(value, col.type).compile(dialect=conn.dialect,
                                                            compile_kwargs={"literal_binds": True}))
    except Exception:  # a type without a literal renderer: fill with an UPDATE
        return False
    t, c = ddl.quote(conn, table.name), ddl.quote(conn, name)
    ddl.run(conn, f"ALTER TABLE {t} ADD COLUMN {ddl.column_ddl(conn, col)} DEFAULT {rendered}")
    if not keep:
        ddl.run(conn, f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT")
    return True


def apply_actions(conn: Connection, table: Table, actions: list[TableAction]) -> None:
    """Run planned actions in the caller's transaction. Identifiers were validated with the definition.

    A database error (a value the plan could not foresee, a constraint) becomes a refusal naming the
    action; the caller's transaction then rolls back, so nothing is half-applied."""
    filled: set[str] = set()  # columns added with their default already in place (PostgreSQL)
    for i, action in enumerate(actions):
        follow = actions[i + 1] if i + 1 < len(actions) else None
        try:
            _apply_one(conn, table, action, follow, filled)
        except DBAPIError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            raise DestructiveChange(f"applying {action.op} on {table.name}.{action.target} failed; nothing was "
                                    f"changed", [Problem(f"table {table.name}/{action.target}", "apply_failed",
                                                         f"{action.op}: {reason}")]) from None


def required_check(table: str, name: str) -> str:
    """The name of the check that keeps a required field's column from holding NULL."""
    return constraint_name("ck", table, [name, "required"])


def _apply_one(conn: Connection, table: Table, action: TableAction, follow: TableAction | None,
               filled: set[str]) -> None:
    if action.op == "create_table":  # the caller created it (together with the other new tables)
        for name in action.value or ():
            if conn.dialect.name == "postgresql":
                ddl.add_required_check(conn, table, name, required_check(table.name, name), empty=True)
    elif action.op == "require" and not action.value[2]:  # validated after the commit (store.online)
        ddl.add_required_check(conn, table, action.target, action.value[0], validate=False)
    elif action.op == "unrequire":
        ddl.drop_constraint(conn, table, action.value)
    elif action.op == "add_column":
        if follow is not None and follow.op == "backfill" and follow.target == action.target \
                and _add_with_default(conn, table, action.target, follow.value, action.value == "keep_default"):
            filled.add(action.target)
        else:
            ddl.add_column(conn, table, table.c[action.target])
    elif action.op == "backfill" and action.target not in filled:
        col = table.c[action.target]
        conn.execute(table.update().where(col.is_(None)).values({action.target: action.value}))
    elif action.op == "rename_column":
        ddl.rename_column(conn, table, action.value[0], action.target, action.value[1])
    elif action.op == "rename_options":
        rewrite_options(conn, table, action.target, *action.value)
    elif action.op == "alter_type":
        have, want = action.value
        if conn.dialect.name == "sqlite" and have.family == want.family:
            ddl.sqlite_same_affinity(conn, table, action.target)
        else:
            ddl.change_type(conn, table, action.target,
                            convert_expression(conn.dialect.name, action.target, have, want))
    elif action.op == "retarget":
        ddl.retarget(conn, table, action.target, action.value)
    elif action.op == "add_index" and action.value != CONCURRENTLY:  # concurrent ones: store.online
        next(ix for ix in table.indexes if ix.name == action.target).create(conn)
    elif action.op == "drop_index":
        ddl.drop_index(conn, action.target)
    # retire_column: the column stays with its data, nothing is dropped silently


def sync_table(conn: Connection, table: Table) -> list[str]:
    """Bring a system table up to its declaration: create it, or add missing columns and indexes."""
    live = live_table(conn, table.name)
    if live is None:
        table.create(conn)
        return [f"created {table.name}"]
    done = []
    for col in table.columns:
        if col.name not in live.columns:
            ddl.add_column(conn, table, col)
            done.append(f"added {table.name}.{col.name}")
    for ix in table.indexes:
        if ix.name not in live.indexes:
            ix.create(conn)
            done.append(f"added index {ix.name}")
    return done


__all__ = ["SEARCH_INDEX_PREFIX", "TableAction", "apply_actions", "plan_object", "sync_table"]
