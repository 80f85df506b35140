// Assignment rules in the browser (issue 18): ordered entries, each a form (strategy, the rule
// builder for "which records", people, capacity, working days, fallback); the first match wins.
// Saving goes through the definitions API (the server validates: unknown user, weight <= 0 -> 422
// naming the entry), and "Explain" asks the server who would get a given record and why.
import { useState } from "react";
import { api, request } from "../../api/client";
import type { FieldInfo, Label } from "../../api/types";
import { RuleBuilder } from "../../components/RuleBuilder";
import { ErrorMessage, Loading, PageHeader, useLoad, useUsers } from "../../components/common";
import { type MessageKey, useI18n } from "../../i18n";
import { type EntryState, type Fallback, STRATEGIES, type Strategy, docWithEntries, entryFromJson, move, newEntry } from "../../lib/assignmentDoc";
import { Link } from "../../lib/router";
import { AdminNav } from "../admin/AdminOnly";

interface Explained {
  matched: boolean;
  entry_name: string | null;
  territory: string | null;
  owner: { id: number; username: string } | null;
  skipped: { user_id: number; username: string; reason: string }[];
  fallback: string | null;
  pool: string | null;
}

const DAYS = [1, 2, 3, 4, 5, 6, 7];
const KNOWN_REASONS = ["capacity_reached", "not_a_working_day", "out_of_office"];
const csv = (v: string): string[] => v.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean);

export function AssignmentList() {
  const { t, label } = useI18n();
  const list = useLoad(() => request<{ items: { name: string; label: Label; object: string }[] }>("GET", "/assignment"), []);
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;
  return (
    <div className="page">
      <PageHeader title={t("assign.title")} />
      <AdminNav />
      <ul className="plain-list">
        {list.data.items.map((a) => <li key={a.name}><Link to={`/designer/assignments/${a.name}`}>{label(a.label, a.name)}</Link> <span className="muted">{a.object}</span></li>)}
      </ul>
    </div>
  );
}

export function AssignmentEditor({ name }: { name: string }) {
  const loaded = useLoad(async () => {
    const doc = await api.definition("assignment", name);
    const detail = await api.object(String(doc.object));
    return { doc, fields: detail.fields };
  }, [name]);
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  return <Editor name={name} doc={loaded.data.doc} fields={loaded.data.fields} />;
}

function Editor({ name, doc, fields }: { name: string; doc: Record<string, unknown>; fields: FieldInfo[] }) {
  const { t, label } = useI18n();
  const [entries, setEntries] = useState<EntryState[]>(() => ((doc.entries ?? []) as Record<string, unknown>[]).map(entryFromJson));
  const [onCreate, setOnCreate] = useState(doc.on_create !== false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [recordId, setRecordId] = useState("");
  const [explained, setExplained] = useState<Explained | null>(null);
  const set = (i: number, change: Partial<EntryState>) => { setSaved(false); setEntries((all) => all.map((e, k) => (k === i ? { ...e, ...change } : e))); };

  const reasonText = (code: string) => (KNOWN_REASONS.includes(code) ? t(`assign.r_${code}` as MessageKey) : code);

  async function save() {
    setError(null); setSaved(false);
    try {
      await api.putDefinition("assignment", name, docWithEntries(doc, entries, fields, onCreate));
      setSaved(true);
    } catch (e) { setError(e); }
  }
  async function explain() {
    setError(null); setExplained(null);
    try {
      setExplained(await request<Explained>("POST", `/assignment/${encodeURIComponent(name)}/explain`, { body: { record_id: Number(recordId) } }));
    } catch (e) { setError(e); }
  }

  return (
    <div className="page assignment-editor">
      <PageHeader title={label(doc.label as Label, name)} />
      <AdminNav />
      {!!doc.description && <p className="muted">{label(doc.description as Label)}</p>}
      <label className="check"><input type="checkbox" checked={onCreate} onChange={(e) => { setOnCreate(e.target.checked); setSaved(false); }} />{" "}{t("assign.on_create")}</label>
      <ol className="entries">
        {entries.map((e, i) => (
          <li key={i} className="card" aria-label={t("assign.entry_n", { n: i + 1 })}>
            <div className="row">
              <label>{t("assign.entry_name")}<input value={e.name} onChange={(ev) => set(i, { name: ev.target.value })} /></label>
              <label>{t("assign.strategy")}
                <select value={e.strategy} onChange={(ev) => set(i, { strategy: ev.target.value as Strategy })}>
                  {STRATEGIES.map((s) => <option key={s} value={s}>{t(`assign.s_${s}`)}</option>)}
                </select>
              </label>
              <span className="actions">
                <button type="button" className="link" disabled={i === 0} onClick={() => setEntries(move(entries, i, -1))}>{t("assign.up")}</button>
                <button type="button" className="link" disabled={i === entries.length - 1} onClick={() => setEntries(move(entries, i, 1))}>{t("assign.down")}</button>
                <button type="button" className="link" disabled={entries.length === 1} onClick={() => setEntries(entries.filter((_, k) => k !== i))}>{t("assign.remove")}</button>
              </span>
            </div>
            <fieldset>
              <legend>{t("assign.which")}</legend>
              <label className="check"><input type="checkbox" checked={e.everyRecord} onChange={(ev) => set(i, { everyRecord: ev.target.checked })} />{" "}{t("assign.every_record")}</label>
              {!e.everyRecord && <RuleBuilder fields={fields} value={e.when} onChange={(when) => set(i, { when })} />}
            </fieldset>
            <People entry={e} fields={fields} onChange={(c) => set(i, c)} />
            <div className="row">
              <label>{t("assign.per_day")}<input type="number" min={1} value={e.perDay ?? ""} onChange={(ev) => set(i, { perDay: ev.target.value ? Number(ev.target.value) : null })} /></label>
              <label>{t("assign.per_month")}<input type="number" min={1} value={e.perMonth ?? ""} onChange={(ev) => set(i, { perMonth: ev.target.value ? Number(ev.target.value) : null })} /></label>
            </div>
            <fieldset className="row">
              <legend>{t("assign.working_days")}</legend>
              {DAYS.map((d) => (
                <label key={d} className="check"><input type="checkbox" checked={e.workingDays.includes(d)}
                  onChange={(ev) => set(i, { workingDays: ev.target.checked ? [...e.workingDays, d] : e.workingDays.filter((x) => x !== d) })} />{t(`assign.day_${d}` as MessageKey)}</label>
              ))}
            </fieldset>
            <FallbackInput value={e.fallback} onChange={(fallback) => set(i, { fallback })} />
          </li>
        ))}
      </ol>
      <p><button type="button" onClick={() => setEntries([...entries, newEntry()])}>{t("assign.add")}</button></p>
      <ErrorMessage error={error} />
      {saved && <p role="status" className="alert">{t("assign.saved")}</p>}
      <p><button type="button" className="primary" onClick={() => { void save(); }}>{t("assign.save")}</button></p>
      <section>
        <h2>{t("assign.explain")}</h2>
        <label>{t("assign.record_id")}<input inputMode="numeric" value={recordId} onChange={(e) => setRecordId(e.target.value.replace(/\D/g, ""))} /></label>{" "}
        <button type="button" disabled={!recordId} onClick={() => { void explain(); }}>{t("assign.explain_go")}</button>
        {explained && (
          <div role="status" className="explain">
            <p>{explained.matched ? t("assign.matched", { entry: explained.entry_name ?? "", territory: explained.territory ?? "" }) : t("assign.no_match")}</p>
            <p>{explained.owner ? t("assign.goes_to", { user: explained.owner.username }) : explained.pool ? t("assign.to_pool", { pool: explained.pool }) : t("assign.nobody")}</p>
            {explained.skipped.length > 0 && (
              <ul>{explained.skipped.map((s) => <li key={s.user_id}>{t("assign.skipped", { user: s.username, reason: reasonText(s.reason) })}</li>)}</ul>
            )}
          </div>
        )}
      </section>
    </div>
  );
}

function People({ entry: e, fields, onChange }: { entry: EntryState; fields: FieldInfo[]; onChange: (c: Partial<EntryState>) => void }) {
  const { t, label } = useI18n();
  const users = useUsers();
  const names = <datalist id="assign-users">{users.map((u) => <option key={u.id} value={u.username}>{u.display_name}</option>)}</datalist>;
  if (e.strategy === "by_field") {
    return (
      <label>{t("assign.field")}
        <select value={e.field} onChange={(ev) => onChange({ field: ev.target.value })}>
          <option value="" />
          {fields.filter((f) => f.type === "relation" || f.type === "user").map((f) => <option key={f.name} value={f.name}>{label(f.label, f.name)}</option>)}
        </select>
      </label>
    );
  }
  if (e.strategy === "weighted") {
    const rows = Object.entries(e.weights);
    return (
      <fieldset>
        <legend>{t("assign.weights")}</legend>{names}
        {[...rows, ["", 1] as [string, number]].map(([user, weight], k) => (
          <div className="row" key={k}>
            <input list="assign-users" aria-label={t("assign.user")} value={user} onChange={(ev) => {
              const next = Object.fromEntries(rows.filter(([u]) => u !== user));
              if (ev.target.value) next[ev.target.value] = weight;
              onChange({ weights: next });
            }} />
            <input type="number" min={1} aria-label={t("assign.weight")} value={weight} disabled={!user}
              onChange={(ev) => onChange({ weights: { ...e.weights, [user]: Number(ev.target.value) } })} />
          </div>
        ))}
      </fieldset>
    );
  }
  if (e.strategy === "territory") {
    return (
      <fieldset>
        <legend>{t("assign.territories")}</legend>{names}
        {e.territories.map((ter, k) => {
          const put = (c: Partial<typeof ter>) => onChange({ territories: e.territories.map((x, j) => (j === k ? { ...x, ...c } : x)) });
          return (
            <div key={k} className="territory">
              <div className="row">
                <label>{t("assign.entry_name")}<input value={ter.name} onChange={(ev) => put({ name: ev.target.value })} /></label>
                <label>{t("assign.team")}<input value={ter.team} onChange={(ev) => put({ team: ev.target.value })} /></label>
                <label>{t("assign.users")}<input list="assign-users" value={ter.users.join(", ")} onChange={(ev) => put({ users: csv(ev.target.value) })} /></label>
                <button type="button" className="link" onClick={() => onChange({ territories: e.territories.filter((_, j) => j !== k) })}>{t("assign.remove")}</button>
              </div>
              <RuleBuilder fields={fields} value={ter.when} onChange={(when) => put({ when })} />
            </div>
          );
        })}
        <button type="button" onClick={() => onChange({ territories: [...e.territories, { name: "", when: entryFromJson({}).when, team: "", users: [] }] })}>{t("assign.add_territory")}</button>
      </fieldset>
    );
  }
  return (
    <div className="row">{names}
      <label>{t("assign.users")}<input list="assign-users" value={e.users.join(", ")} onChange={(ev) => onChange({ users: csv(ev.target.value) })} /></label>
      <label>{t("assign.team")}<input value={e.team} onChange={(ev) => onChange({ team: ev.target.value })} /></label>
    </div>
  );
}

function FallbackInput({ value, onChange }: { value: Fallback; onChange: (f: Fallback) => void }) {
  const { t } = useI18n();
  const kind = value ? Object.keys(value)[0] : "";
  const text = value ? ("users" in value ? value.users.join(", ") : "team" in value ? value.team : value.pool) : "";
  const make = (k: string, v: string): Fallback => (k === "users" ? { users: csv(v) } : k === "team" ? { team: v } : k === "pool" ? { pool: v } : null);
  return (
    <div className="row">
      <label>{t("assign.fallback")}
        <select value={kind} onChange={(ev) => onChange(make(ev.target.value, ""))}>
          <option value="">{t("assign.fb_none")}</option>
          <option value="users">{t("assign.users")}</option>
          <option value="team">{t("assign.team")}</option>
          <option value="pool">{t("assign.fb_pool")}</option>
        </select>
      </label>
      {kind && <input aria-label={t("assign.fallback")} value={text} onChange={(ev) => onChange(make(kind, ev.target.value))} />}
    </div>
  );
}
