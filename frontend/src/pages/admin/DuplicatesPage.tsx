// Duplicate review: the queue of candidate pairs side by side, differing fields highlighted with why they
// matched; choose the survivor and, per field, whose value to keep; merge, "not a duplicate", and undo
// from the merge history. The server applies the reviewer's scope and field rules.
import { useState } from "react";
import { adminApi, type Candidate } from "../../api/admin";
import { api } from "../../api/client";
import type { FieldInfo, ObjectDetail, RecordData } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, displayValue, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { formatDateTime, formatValue } from "../../lib/format";
import { AdminOnly, AdminNav } from "./AdminOnly";
import { defaultKeep, differingFields } from "./logic";

const SKIP = new Set(["id", "version", "created_at", "updated_at", "deleted_at", "created_by", "updated_by"]);

export function DuplicatesPage() {
  return <AdminOnly><DuplicatesBody /></AdminOnly>;
}

function DuplicatesBody() {
  const { t, label, lang } = useI18n();
  const { data: objects } = useLoad(() => api.objects(), []);
  const [object, setObject] = useState("lead");
  const [tick, setTick] = useState(0);
  const detail = useLoad(() => api.object(object), [object]);
  const queue = useLoad(() => adminApi.candidates(object), [object, tick]);
  const history = useLoad(() => adminApi.merges(object), [object, tick]);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState("");
  const refresh = () => setTick((x) => x + 1);

  async function scan() {
    setError(null);
    try { await adminApi.scan(object); refresh(); } catch (e) { setError(e); }
  }

  async function undo(id: number) {
    setError(null); setMessage("");
    try {
      await adminApi.undoMerge(id);
      setMessage(t("dup.undone"));
      refresh();
    } catch (e) {
      if (e instanceof Error && "status" in e && (e as { status: number }).status === 409 && window.confirm(t("dup.undo_force"))) {
        try { await adminApi.undoMerge(id, true); setMessage(t("dup.undone")); refresh(); } catch (e2) { setError(e2); }
      } else setError(e);
    }
  }

  return (
    <div className="page">
      <PageHeader title={t("dup.title")}>
        <button type="button" onClick={() => void scan()}>{t("dup.scan")}</button>
      </PageHeader>
      <AdminNav />
      <label>{t("imp.object")}{" "}
        <select value={object} onChange={(e) => setObject(e.target.value)}>
          {(objects ?? []).map((o) => <option key={o.name} value={o.name}>{label(o.label, o.name)}</option>)}
        </select>
      </label>
      <ErrorMessage error={error ?? queue.error} />
      {message && <p role="status" className="alert alert-ok">{message}</p>}
      {!queue.data || !detail.data ? <Loading /> : (
        <>
          <p className="muted">{t("dup.counts", { pending: queue.data.counts.pending ?? 0, merged: queue.data.counts.merged ?? 0, dismissed: queue.data.counts.dismissed ?? 0 })}</p>
          {queue.data.items.length === 0 && <p>{t("dup.none")}</p>}
          {queue.data.items.map((c) => (
            <Pair key={c.id} candidate={c} obj={detail.data!} onDone={(m) => { setMessage(m); refresh(); }} onError={setError} />
          ))}
        </>
      )}
      <h2>{t("dup.history")}</h2>
      {(history.data ?? []).length === 0 ? <p className="muted">{t("dup.no_history")}</p> : (
        <ul className="plain">
          {history.data!.map((m) => (
            <li key={m.id} className="row">
              <span>{t("dup.merge_line", { survivor: m.survivor_id, merged: m.merged_ids.join(", "), when: m.created_at ? formatDateTime(m.created_at, lang) : "" })}</span>
              {m.undone_at ? <span className="muted">{t("dup.was_undone")}</span>
                : <button type="button" onClick={() => void undo(m.id)}>{t("dup.undo")}</button>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Why the pair matched: the rules, else the fields they compared. */
export function reasonText(c: Candidate, fieldLabel: (name: string) => string): string {
  const rules = (c.rules ?? []).map((r) => String(r).replace(/_/g, " "));
  const fields = (c.fields ?? []).map((f) => fieldLabel(String(f)));
  return [rules.join(", "), fields.length ? `(${fields.join(", ")})` : ""].filter(Boolean).join(" ");
}

/** A score as a percentage (the server's scores run from 0 to 1). */
export function percent(score: number | undefined): number {
  const n = Number(score ?? 0);
  return Math.round(n <= 1 ? n * 100 : n);
}

function Pair({ candidate, obj, onDone, onError }: {
  candidate: Candidate; obj: ObjectDetail; onDone: (message: string) => void; onError: (e: unknown) => void;
}) {
  const { t, label } = useI18n();
  const left = candidate.left as RecordData | null;
  const right = candidate.right as RecordData | null;
  const fields: FieldInfo[] = obj.fields.filter((f) => !SKIP.has(f.name));
  const names = fields.map((f) => f.name);
  const byName = new Map(obj.fields.map((f) => [f.name, f]));
  const show = (f: FieldInfo, v: unknown) => formatValue(f, v, label) || displayValue(v);
  const [survivor, setSurvivor] = useState<number>(candidate.left_id);
  const [keep, setKeep] = useState<Record<string, number>>(() => left && right ? defaultKeep(left, right, candidate.left_id, names) : {});
  const [busy, setBusy] = useState(false);
  if (!left || !right) return null;
  const differing = new Set(differingFields(left, right, names));
  const title = (r: RecordData) => String(r[obj.title_field ?? "name"] ?? `#${r.id}`);

  function chooseSurvivor(id: number) {
    setSurvivor(id);
    setKeep(defaultKeep(left!, right!, id, names));
  }

  async function act(kind: "merge" | "dismiss") {
    setBusy(true); onError(null);
    try {
      if (kind === "merge") {
        await adminApi.mergeFields(candidate.id, survivor, keep);
        onDone(t("dup.merged", { name: title(survivor === left!.id ? left! : right!) }));
      } else {
        await adminApi.dismiss(candidate.id);
        onDone(t("dup.dismissed"));
      }
    } catch (e) {
      onError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card dup-pair" aria-label={t("dup.pair", { a: title(left), b: title(right) })}>
      <p><strong>{title(left)}</strong> ↔ <strong>{title(right)}</strong>
        {" "}<span className="muted">{t("dup.why", { reason: reasonText(candidate, (n) => label(byName.get(n)?.label, n)), score: percent(candidate.score) })}</span></p>
      <div style={{ overflowX: "auto" }}>
        <table className="records">
          <thead>
            <tr>
              <th scope="col">{t("imp.field")}</th>
              {[left, right].map((r) => (
                <th key={r.id} scope="col">
                  <label><input type="radio" name={`survivor-${candidate.id}`} checked={survivor === r.id}
                    onChange={() => chooseSurvivor(r.id)} /> {t("dup.keep_record", { id: r.id })}</label>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {fields.filter((f) => differing.has(f.name) || left[f.name] != null).map((f) => (
              <tr key={f.name} style={differing.has(f.name) ? { background: "#fff7e0" } : undefined}>
                <th scope="row">{label(f.label, f.name)}</th>
                {[left, right].map((r) => (
                  <td key={r.id} data-label={`#${r.id}`}>
                    {differing.has(f.name) && !f.readonly ? (
                      <label>
                        <input type="radio" name={`keep-${candidate.id}-${f.name}`} checked={keep[f.name] === r.id}
                          aria-label={t("dup.keep_value", { field: label(f.label, f.name), id: r.id })}
                          onChange={() => setKeep({ ...keep, [f.name]: r.id })} />{" "}
                        {show(f, r[f.name]) || <span className="muted">{t("dup.empty")}</span>}
                      </label>
                    ) : show(f, r[f.name])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="toolbar row">
        <button type="button" className="primary" disabled={busy} onClick={() => void act("merge")}>{t("dup.merge")}</button>
        <button type="button" disabled={busy} onClick={() => void act("dismiss")}>{t("dup.not_duplicate")}</button>
      </div>
    </section>
  );
}
