// Import in the browser: drop a spreadsheet, check the preview and mapping, choose the options, run it
// as a background job with a progress bar (the job id is in the URL, so a reload keeps following it),
// then download the error rows to fix and re-import. Recent imports are listed below.
import { useEffect, useState } from "react";
import { adminApi, type ImportJob, type ImportNote, type ImportOptions, type ImportPreview } from "../../api/admin";
import { api } from "../../api/client";
import { ErrorMessage, Loading, PageHeader, displayValue, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { formatDateTime } from "../../lib/format";
import { AdminOnly, AdminNav } from "./AdminOnly";
import { IGNORE, KEEP, doubleMapped, initialDecisions, isFinished, mappingOf, missingRequired, rowCells, secondsLeft } from "./logic";

const DUPLICATES = ["", "skip", "merge", "flag", "none"] as const;
const STATUS: Record<string, "imp.status_pending" | "imp.status_running" | "imp.status_done" | "imp.status_failed" | "imp.status_refused"> = {
  pending: "imp.status_pending", running: "imp.status_running", done: "imp.status_done", failed: "imp.status_failed",
  refused: "imp.status_refused",
};

function jobFromUrl(): number | null {
  const raw = new URLSearchParams(window.location.search).get("job");
  return raw && /^\d+$/.test(raw) ? Number(raw) : null;
}

export function ImportPage() {
  return <AdminOnly><ImportBody /></AdminOnly>;
}

function ImportBody() {
  const { t, label } = useI18n();
  const objects = useLoad(() => api.objects(), []);
  const [object, setObject] = useState("lead");
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [decisions, setDecisions] = useState<Record<string, string>>({});
  const [options, setOptions] = useState<Omit<ImportOptions, "mapping">>({ on_duplicate: "", day_first: "", timezone: "", region: "" });
  const [headerRow, setHeaderRow] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [jobId, setJobId] = useState<number | null>(jobFromUrl);
  const [templateName, setTemplateName] = useState("");
  const [saved, setSaved] = useState("");
  const templates = useLoad(() => adminApi.templates(object), [object]);

  async function load(f: File, row: number | null = null, sheet: string | null = null) {
    setBusy(true); setError(null); setPreview(null);
    try {
      const p = await adminApi.preview(object, f, { header_row: row, sheet: sheet ?? undefined });
      setPreview(p);
      setOptions((o) => ({ ...o, sheet: sheet ?? undefined }));
      setDecisions(initialDecisions(p));
      setHeaderRow(p.header_row ?? null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function start() {
    if (!file) return;
    setBusy(true); setError(null);
    try {
      const job = await adminApi.startImport(object, file, { ...options, header_row: headerRow, mapping: mappingOf(decisions) });
      setJobId(job.id);
      window.history.replaceState(null, "", `/designer/import?job=${job.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  async function saveTemplate() {
    setError(null); setSaved("");
    try {
      await adminApi.saveTemplate(templateName, object, mappingOf(decisions));
      setSaved(t("imp.template_saved", { name: templateName }));
      templates.reload();
    } catch (e) {
      setError(e);
    }
  }

  function useTemplate(name: string) {
    const tpl = templates.data?.find((x) => x.name === name);
    if (!tpl || !preview) return;
    const next = { ...decisions };
    for (const h of preview.headers) if (h in tpl.mapping) next[h] = tpl.mapping[h] ?? IGNORE;
    setDecisions(next);
  }

  function reset() {
    setJobId(null); setFile(null); setPreview(null);
    window.history.replaceState(null, "", "/designer/import");
  }

  if (jobId) return <><PageHeader title={t("imp.title")} /><AdminNav /><JobView id={jobId} onAgain={reset} /></>;
  const doubled = preview ? doubleMapped(decisions) : [];
  const missing = preview ? missingRequired(preview, decisions) : [];
  const fieldLabel = (name: string) => {
    const f = preview?.fields.find((x) => x.name === name);
    return f ? label(f.label, name) : name;
  };
  const cellErrors = preview?.cell_errors ?? preview?.errors ?? [];

  return (
    <div className="page">
      <PageHeader title={t("imp.title")} />
      <AdminNav />
      <div className="form-grid">
        <label>{t("imp.object")}
          <select value={object} onChange={(e) => { setObject(e.target.value); setPreview(null); }}>
            {(objects.data ?? []).map((o) => <option key={o.name} value={o.name}>{label(o.label, o.name)}</option>)}
          </select>
        </label>
        <label>{t("imp.file")}
          <input type="file" accept=".xlsx,.xlsm,.csv,.txt" aria-label={t("imp.file")}
            onChange={(e) => { const f = e.target.files?.[0] ?? null; setFile(f); if (f) void load(f); }} />
        </label>
      </div>
      <ErrorMessage error={error} />
      {busy && <Loading />}
      {preview && (
        <section aria-label={t("imp.preview")}>
          <h2>{t("imp.preview")}</h2>
          <p>{t("imp.summary", { rows: preview.total_rows, sheet: preview.sheet ?? "", row: preview.header_row ?? 1 })}</p>
          <ImportNotes notes={preview.notes} />
          {(preview.sheets?.length ?? 0) > 1 && (
            <label>{t("imp.sheet")}{" "}
              <select value={preview.sheet ?? ""} aria-label={t("imp.sheet")}
                onChange={(e) => file && void load(file, null, e.target.value)}>
                {preview.sheets!.map((name) => <option key={name} value={name}>{name}</option>)}
              </select>
            </label>
          )}
          <label>{t("imp.header_row")}{" "}
            <input type="number" min={1} max={50} style={{ width: "5rem" }} value={headerRow ?? ""} aria-label={t("imp.header_row")}
              onChange={(e) => setHeaderRow(e.target.value ? Number(e.target.value) : null)} />
            <button type="button" onClick={() => file && void load(file, headerRow, options.sheet ?? null)}>{t("imp.reload")}</button>
          </label>
          <div style={{ overflowX: "auto" }}>
            <table className="records preview-table">
              <thead><tr>{preview.headers.map((h) => <th key={h} scope="col">{h}</th>)}</tr></thead>
              <tbody>
                {rowCells(preview).map((cells, i) => (
                  <tr key={i}>
                    {preview.headers.map((h, j) => {
                      const bad = cellErrors.find((c) => c.row === i + 1 + (preview.header_row ?? 1) && (c.header === h));
                      return (
                        <td key={h} data-label={h} className={bad ? "cell-error" : undefined} title={bad?.message}
                          style={bad ? { background: "#fdecea" } : undefined}>
                          {displayValue(cells[j])}{bad && <small className="error"> ⚠ {bad.message}</small>}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          <h2>{t("imp.mapping")}</h2>
          {(templates.data ?? []).length > 0 && (
            <label>{t("imp.template")}{" "}
              <select defaultValue="" onChange={(e) => useTemplate(e.target.value)} aria-label={t("imp.template")}>
                <option value="">{t("common.choose")}</option>
                {templates.data!.map((x) => <option key={x.name} value={x.name}>{x.label || x.name}</option>)}
              </select>
            </label>
          )}
          <table className="records">
            <thead><tr><th scope="col">{t("imp.column")}</th><th scope="col">{t("imp.samples")}</th><th scope="col">{t("imp.field")}</th></tr></thead>
            <tbody>
              {preview.headers.map((h) => {
                const detail = preview.mapping_details.find((d) => d.header === h);
                const idx = preview.headers.indexOf(h);
                const samples = rowCells(preview).slice(0, 3).map((r) => displayValue(r[idx])).filter(Boolean).join(" · ");
                return (
                  <tr key={h}>
                    <td data-label={t("imp.column")}><strong>{h}</strong></td>
                    <td data-label={t("imp.samples")} className="muted">{samples}</td>
                    <td data-label={t("imp.field")}>
                      <select aria-label={t("imp.map_column", { column: h })} value={decisions[h] ?? IGNORE}
                        onChange={(e) => setDecisions({ ...decisions, [h]: e.target.value })}>
                        <option value={IGNORE}>{t("imp.ignore")}</option>
                        {preview.keep_field && <option value={KEEP}>{t("imp.keep", { field: fieldLabel(preview.keep_field) })}</option>}
                        {preview.fields.map((f) => <option key={f.name} value={f.name}>{label(f.label, f.name)}{f.required ? " *" : ""}</option>)}
                      </select>
                      {detail && decisions[h] === detail.field && (
                        <small className="muted"> {t("imp.guess", { score: detail.score ?? 100 })}{detail.confirm ? " — " + t("imp.confirm") : ""}</small>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {doubled.length > 0 && <p role="alert" className="alert alert-error">{t("imp.doubled", { fields: doubled.map(fieldLabel).join(", ") })}</p>}
          {missing.length > 0 && <p className="alert">{t("imp.missing", { fields: missing.map(fieldLabel).join(", ") })}</p>}

          <h2>{t("imp.options")}</h2>
          <div className="form-grid">
            <label>{t("imp.duplicates")}
              <select value={options.on_duplicate} onChange={(e) => setOptions({ ...options, on_duplicate: e.target.value })}>
                {DUPLICATES.map((d) => <option key={d} value={d}>{t(`imp.dup_${d || "default"}`)}</option>)}
              </select>
            </label>
            <label>{t("imp.dates")}
              <select value={options.day_first} onChange={(e) => setOptions({ ...options, day_first: e.target.value as ImportOptions["day_first"] })}>
                <option value="">{t("imp.dates_ask")}</option>
                <option value="true">{t("imp.dates_day_first")}</option>
                <option value="false">{t("imp.dates_month_first")}</option>
              </select>
            </label>
            <label>{t("imp.timezone")}
              <input value={options.timezone} placeholder="Asia/Shanghai" onChange={(e) => setOptions({ ...options, timezone: e.target.value })} />
            </label>
            <label>{t("imp.region")}
              <input value={options.region} placeholder="CN" onChange={(e) => setOptions({ ...options, region: e.target.value })} />
            </label>
          </div>
          <div className="toolbar row">
            <button type="button" className="primary" disabled={busy || doubled.length > 0} onClick={() => void start()}>
              {t("imp.start", { n: preview.total_rows })}
            </button>
            <input aria-label={t("imp.template_name")} placeholder={t("imp.template_name")} value={templateName}
              onChange={(e) => setTemplateName(e.target.value.replace(/[^a-z0-9_]/g, "_").toLowerCase())} />
            <button type="button" disabled={!templateName} onClick={() => void saveTemplate()}>{t("imp.save_template")}</button>
            {saved && <span role="status" className="muted">{saved}</span>}
          </div>
        </section>
      )}
      <History />
    </div>
  );
}

function JobView({ id, onAgain }: { id: number; onAgain: () => void }) {
  const { t, lang } = useI18n();
  const [job, setJob] = useState<ImportJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const poll = () => {
      adminApi.importJob(id).then((j) => {
        if (!live) return;
        setJob(j);
        if (!isFinished(j)) timer = window.setTimeout(poll, 800);
      }, (e: unknown) => { if (live) setError(e); });
    };
    poll();
    return () => { live = false; window.clearTimeout(timer); };
  }, [id, tick]);

  if (error) return <ErrorMessage error={error} />;
  if (!job) return <Loading />;
  const left = secondsLeft(job);
  const done = isFinished(job);
  return (
    <section className="page" aria-label={t("imp.job", { id })}>
      <h2>{t("imp.job", { id })} · {job.filename}</h2>
      <progress max={Math.max(job.total_rows, 1)} value={job.rows_done} style={{ width: "100%" }} aria-label={t("imp.progress")} />
      <p role="status">
        {t("imp.rows_done", { done: job.rows_done, total: job.total_rows })}
        {job.rate ? " · " + t("imp.rate", { n: Math.round(job.rate) }) : ""}
        {left !== null ? " · " + t("imp.left", { n: left }) : ""}
        {" · "}{STATUS[job.status] ? t(STATUS[job.status]) : job.status}
      </p>
      {done && (
        <dl className="counts" data-testid="import-result">
          {(["created", "merged", "skipped", "failed", "flagged"] as const).map((k) => (
            <div key={k} className="row"><dt>{t(`imp.count_${k}`)}</dt><dd data-count={k}>{job[k] ?? 0}</dd></div>
          ))}
        </dl>
      )}
      <ImportNotes notes={job.options?.notes} />
      {job.error && <p className="alert alert-error">{job.error}</p>}
      <div className="toolbar row">
        {done && (job.failed ?? 0) > 0 && (
          <a className="button" href={adminApi.errorFileUrl(id, lang)} download>{t("imp.download_errors")}</a>
        )}
        {job.status === "failed" && (
          <button type="button" onClick={() => { void adminApi.resumeImport(id).then(() => setTick((x) => x + 1), setError); }}>{t("imp.resume")}</button>
        )}
        {done && <button type="button" className="primary" onClick={onAgain}>{t("imp.again")}</button>}
      </div>
    </section>
  );
}

/** What the import did that the user should know: a time of day dropped from dates, per column. */
export function ImportNotes({ notes }: { notes?: ImportNote[] }) {
  const { t } = useI18n();
  if (!notes?.length) return null;
  return (
    <ul className="alert" data-testid="import-notes">
      {notes.map((n) => (
        <li key={`${n.code}:${n.field}`}>
          {n.code === "time_dropped" ? t("imp.note_time_dropped", { rows: n.rows, header: n.header, field: n.field }) : n.message}
        </li>
      ))}
    </ul>
  );
}

function History() {
  const { t, lang } = useI18n();
  const list = useLoad(() => adminApi.imports(), []);
  if (!list.data?.length) return null;
  return (
    <section>
      <h2>{t("imp.history")}</h2>
      <table className="records">
        <thead><tr><th>{t("imp.when")}</th><th>{t("imp.file")}</th><th>{t("imp.object")}</th><th>{t("imp.counts")}</th></tr></thead>
        <tbody>
          {list.data.map((j) => (
            <tr key={j.id}>
              <td data-label={t("imp.when")}><a href={`/designer/import?job=${j.id}`}>{j.created_at ? formatDateTime(j.created_at, lang) : `#${j.id}`}</a></td>
              <td data-label={t("imp.file")}>{j.filename}</td>
              <td data-label={t("imp.object")}>{j.object}</td>
              <td data-label={t("imp.counts")}>{t("imp.counts_line", { c: j.created ?? 0, f: j.failed ?? 0, s: j.skipped ?? 0 })}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
