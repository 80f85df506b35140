// /reports/:name (and /reports/new): run a report with its parameters, export it, and edit it with
// a live preview (the server runs the unsaved definition with my scope and names any bad part).
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api/client";
import { reportsApi, type Agg, type ChartType, type Dimension, type Measure, type Params, type ReportDef,
  type ReportResult } from "../../api/reports";
import type { FieldInfo } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { Link, useRouter } from "../../lib/router";
import { useSession } from "../../session";
import { ReportChart } from "./ReportChart";
import { REPORT_TEXT } from "./reportText";

const CHARTS: ChartType[] = ["bar", "line", "area", "pie", "funnel", "heatmap", "map", "number", "table"];
const AGGS: Agg[] = ["count", "count_distinct", "sum", "avg", "min", "max"];
const BUCKETS = ["day", "week", "month", "quarter", "year"] as const;
const SYSTEM_FIELDS: FieldInfo[] = [
  { name: "created_at", type: "datetime", label: { en: "Created at", zh: "创建时间" } },
  { name: "owner_id", type: "relation", label: { en: "Owner", zh: "负责人" } },
];
const NUMERIC = new Set(["integer", "decimal"]);
const DATES = new Set(["date", "datetime"]);

export function DateRange({ value, onChange }: { value?: { from?: string; to?: string };
  onChange: (v: { from?: string; to?: string } | undefined) => void }) {
  const { label } = useI18n();
  const [from, setFrom] = useState(value?.from ?? "");
  const [to, setTo] = useState(value?.to ?? "");
  return (
    <form className="inline-form report-params" onSubmit={(e) => {
      e.preventDefault();
      onChange(from || to ? { ...(from ? { from } : {}), ...(to ? { to } : {}) } : undefined);
    }}>
      <label>{label(REPORT_TEXT.from)} <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
      <label>{label(REPORT_TEXT.to)} <input type="date" value={to} onChange={(e) => setTo(e.target.value)} /></label>
      <button type="submit">{label(REPORT_TEXT.run)}</button>
    </form>
  );
}

function blank(object: string): ReportDef {
  return { name: "", label: { en: "" }, object, dimensions: [], measures: [{ agg: "count" }], chart: { type: "bar" } };
}

export function ReportPage({ name }: { name: string }) {
  const { label, lang } = useI18n();
  const { objects } = useSession();
  const isNew = name === "new";
  const saved = useLoad(() => (isNew ? Promise.resolve(null) : reportsApi.get(name)), [name]);
  const [draft, setDraft] = useState<ReportDef | null>(null);
  const [editing, setEditing] = useState(isNew);
  const [params, setParams] = useState<Params>({});

  useEffect(() => {
    if (saved.data) setDraft(saved.data);
    else if (isNew && objects.length) setDraft(blank(objects[0].name));
  }, [saved.data, isNew, objects]);

  if (saved.error) return <ErrorMessage error={saved.error} />;
  if (!draft) return <Loading />;
  const title = label(draft.label, draft.name || label(REPORT_TEXT.newReport));
  const period = draft.parameters?.find((p) => p.type === "date_range");
  return (
    <div className="page">
      <PageHeader title={title}>
        <Link to="/reports" className="button">{label(REPORT_TEXT.reports)}</Link>
        {!isNew && (
          <>
            <a className="button" href={reportsApi.exportUrl(name, "xlsx", params, lang)}>{label(REPORT_TEXT.exportXlsx)}</a>
            <a className="button" href={reportsApi.exportUrl(name, "csv", params, lang)}>{label(REPORT_TEXT.exportCsv)}</a>
            <button type="button" onClick={() => setEditing(!editing)}>
              {label(editing ? REPORT_TEXT.closeEditor : REPORT_TEXT.edit)}
            </button>
          </>
        )}
      </PageHeader>
      {period && <DateRange value={params[period.name] as { from?: string; to?: string } | undefined}
        onChange={(v) => setParams({ ...params, [period.name]: v })} />}
      {editing && <ReportEditor draft={draft} onChange={setDraft} isNew={isNew} />}
      <ReportRun name={isNew || editing ? undefined : name} draft={draft} params={params} preview={editing} />
    </div>
  );
}

function ReportRun({ name, draft, params, preview }: { name?: string; draft: ReportDef; params: Params; preview: boolean }) {
  const { label, lang } = useI18n();
  const [result, setResult] = useState<ReportResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = JSON.stringify([name, preview ? draft : null, params, lang]);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      const { name: _n, label: _l, ...definition } = draft;
      const run = preview || !name ? reportsApi.preview(definition, params) : reportsApi.run(name, params);
      run.then((r) => { if (live) { setResult(r); setError(null); } }, (e: unknown) => { if (live) setError(e); });
    }, preview ? 400 : 0);
    return () => { live = false; clearTimeout(timer); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const type = draft.chart?.type ?? "table";
  return (
    <section className="card" aria-label={label(REPORT_TEXT.preview)}>
      {preview && <h2>{label(REPORT_TEXT.preview)}</h2>}
      <ErrorMessage error={error} />
      {!result && !error && <Loading />}
      {result && (
        <>
          <ReportChart result={result} type={type} name={name} parameters={result.parameters ?? params}
            stacked={draft.chart?.stacked} horizontal={draft.chart?.horizontal} />
          {result.truncated && <p className="muted">{label(REPORT_TEXT.truncated)}</p>}
          {name && type !== "table" && <p className="muted">{label(REPORT_TEXT.clickHint)}</p>}
        </>
      )}
    </section>
  );
}

function ReportEditor({ draft, onChange, isNew }: { draft: ReportDef; onChange: (d: ReportDef) => void; isNew: boolean }) {
  const { label } = useI18n();
  const { objects } = useSession();
  const { navigate } = useRouter();
  const detail = useLoad(() => api.object(draft.object), [draft.object]);
  const [name, setName] = useState(draft.name);
  const [title, setTitle] = useState(label(draft.label, ""));
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const fields = useMemo(() => [...(detail.data?.fields ?? []), ...SYSTEM_FIELDS]
    .filter((f) => !["json", "textarea", "multiselect"].includes(f.type)), [detail.data]);
  const typeOf = (field?: string) => fields.find((f) => f.name === field)?.type ?? "";
  const dims = draft.dimensions ?? [];
  const set = (changes: Partial<ReportDef>) => onChange({ ...draft, ...changes });
  const setDim = (i: number, d: Dimension) => set({ dimensions: dims.map((x, k) => (k === i ? d : x)) });
  const setMeasure = (i: number, m: Measure) => set({ measures: draft.measures.map((x, k) => (k === i ? m : x)) });

  const save = async () => {
    setError(null);
    const doc: ReportDef = { ...draft, name, label: { en: title || name, zh: title || name } };
    try {
      await reportsApi.save(doc);
      setMessage(label(REPORT_TEXT.saved));
      if (isNew || name !== draft.name) navigate(`/reports/${name}`);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section className="card report-editor" aria-label={label(REPORT_TEXT.edit)}>
      <div className="form-row">
        <label>{label(REPORT_TEXT.object)}{" "}
          <select aria-label={label(REPORT_TEXT.object)} value={draft.object}
            onChange={(e) => onChange({ ...draft, object: e.target.value, dimensions: [], measures: [{ agg: "count" }],
              parameters: [], filters: undefined, sort: undefined })}>
            {objects.map((o) => <option key={o.name} value={o.name}>{label(o.label, o.name)}</option>)}
          </select>
        </label>
        <label>{label(REPORT_TEXT.chart)}{" "}
          <select aria-label={label(REPORT_TEXT.chart)} value={draft.chart?.type ?? "bar"}
            onChange={(e) => set({ chart: { ...draft.chart, type: e.target.value as ChartType } })}>
            {CHARTS.map((c) => <option key={c} value={c}>{label(REPORT_TEXT[c])}</option>)}
          </select>
        </label>
        <label><input type="checkbox" checked={!!draft.chart?.stacked}
          onChange={(e) => set({ chart: { ...draft.chart, stacked: e.target.checked } })} /> {label(REPORT_TEXT.stacked)}</label>
        <label><input type="checkbox" checked={!!draft.chart?.compare_previous}
          onChange={(e) => set({ chart: { ...draft.chart, compare_previous: e.target.checked } })} /> {label(REPORT_TEXT.comparePrevious)}</label>
      </div>
      <h3>{label(REPORT_TEXT.dimensions)}</h3>
      {dims.map((d, i) => (
        <div className="form-row" key={i}>
          <select aria-label={`${label(REPORT_TEXT.dimensions)} ${i + 1}`} value={d.field}
            onChange={(e) => setDim(i, { field: e.target.value })}>
            {fields.map((f) => <option key={f.name} value={f.name}>{label(f.label, f.name)}</option>)}
          </select>
          {DATES.has(typeOf(d.field)) && (
            <select aria-label={`${label(REPORT_TEXT.bucket)} ${i + 1}`} value={d.bucket ?? ""}
              onChange={(e) => setDim(i, { field: d.field, ...(e.target.value ? { bucket: e.target.value as Dimension["bucket"] } : {}) })}>
              <option value="">{label(REPORT_TEXT.none)}</option>
              {BUCKETS.map((b) => <option key={b} value={b}>{label(REPORT_TEXT[b])}</option>)}
            </select>
          )}
          <button type="button" className="link" onClick={() => set({ dimensions: dims.filter((_, k) => k !== i) })}>×</button>
        </div>
      ))}
      {dims.length < 3 && fields.length > 0 && (
        <button type="button" onClick={() => set({ dimensions: [...dims, { field: fields[0].name }] })}>
          {label(REPORT_TEXT.addDimension)}
        </button>
      )}
      <h3>{label(REPORT_TEXT.measures)}</h3>
      {draft.measures.map((m, i) => (
        <div className="form-row" key={i}>
          <select aria-label={`${label(REPORT_TEXT.aggregate)} ${i + 1}`} value={m.agg}
            onChange={(e) => {
              const agg = e.target.value as Agg;
              const numeric = fields.find((f) => NUMERIC.has(f.type))?.name;
              setMeasure(i, agg === "count" ? { agg } : { agg, field: m.field ?? numeric ?? fields[0]?.name });
            }}>
            {AGGS.map((a) => <option key={a} value={a}>{label(REPORT_TEXT[a as Exclude<Agg, "ratio">])}</option>)}
          </select>
          {m.agg !== "count" && m.agg !== "ratio" && (
            <select aria-label={`${label(REPORT_TEXT.field)} ${i + 1}`} value={m.field}
              onChange={(e) => setMeasure(i, { ...m, field: e.target.value })}>
              {fields.filter((f) => (m.agg === "sum" || m.agg === "avg") ? NUMERIC.has(f.type) : true)
                .map((f) => <option key={f.name} value={f.name}>{label(f.label, f.name)}</option>)}
            </select>
          )}
          {draft.measures.length > 1 && (
            <button type="button" className="link" onClick={() => set({ measures: draft.measures.filter((_, k) => k !== i) })}>×</button>
          )}
        </div>
      ))}
      <button type="button" onClick={() => set({ measures: [...draft.measures, { agg: "count", name: `m${draft.measures.length + 1}` }] })}>
        {label(REPORT_TEXT.addMeasure)}
      </button>
      <div className="form-row">
        <label>{label(REPORT_TEXT.name)} <input value={name} onChange={(e) => setName(e.target.value)}
          pattern="[a-z][a-z0-9_]*" aria-label={label(REPORT_TEXT.name)} /></label>
        <label>{label(REPORT_TEXT.title)} <input value={title} onChange={(e) => setTitle(e.target.value)}
          aria-label={label(REPORT_TEXT.title)} /></label>
        <button type="button" className="primary" disabled={!name} onClick={() => void save()}>{label(REPORT_TEXT.save)}</button>
        {message && <span role="status">{message}</span>}
      </div>
      <ErrorMessage error={error} />
    </section>
  );
}
