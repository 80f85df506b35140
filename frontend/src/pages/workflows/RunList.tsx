// Workflow runs filtered by workflow, status, version and record (the filters live in the URL).
import { useState } from "react";
import { workflowsApi, type Run } from "../../api/workflows";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n, type Translate } from "../../i18n";
import { formatDateTime } from "../../lib/format";
import { Link, useRouter } from "../../lib/router";

export const RUN_STATUSES = ["running", "waiting", "failed", "done", "cancelled"] as const;

/** A run or step status in the reader's language (statuses outside the catalogue shown as they are). */
export function statusText(t: Translate, status: string): string {
  return (RUN_STATUSES as readonly string[]).includes(status) ? t(`wf.status_${status as (typeof RUN_STATUSES)[number]}`) : status;
}
const FILTERS = ["workflow", "status", "version", "record"] as const;

export function RunList() {
  const { t, lang } = useI18n();
  const { search, navigate } = useRouter();
  const query = Object.fromEntries(FILTERS.map((k) => [k, search.get(k) ?? ""])) as Record<(typeof FILTERS)[number], string>;
  const key = FILTERS.map((k) => query[k]).join("|");
  const [more, setMore] = useState<{ key: string; items: Run[]; cursor: string | null } | null>(null);
  const page = useLoad(() => workflowsApi.runs(query), [key]);
  const [error, setError] = useState<unknown>(null);

  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    const qs = next.toString();
    navigate(`/workflows/runs${qs ? "?" + qs : ""}`, { replace: true });
  };
  const extra = more && more.key === key ? more : null;
  const items = [...(page.data?.items ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : page.data?.next_cursor ?? null;

  return (
    <div>
      <PageHeader title={t("wf.runs")}>
        <Link to="/workflows">{t("wf.title")}</Link>
      </PageHeader>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("wf.filters")}>
        <label className="field"><span>{t("wf.workflow")}</span>
          <input defaultValue={query.workflow} onBlur={(e) => setFilter("workflow", e.target.value.trim())} />
        </label>
        <label className="field"><span>{t("wf.status")}</span>
          <select value={query.status} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">{t("wf.any")}</option>
            {RUN_STATUSES.map((s) => <option key={s} value={s}>{t(`wf.status_${s}`)}</option>)}
          </select>
        </label>
        <label className="field"><span>{t("wf.version")}</span>
          <input inputMode="numeric" defaultValue={query.version} onBlur={(e) => setFilter("version", e.target.value.replace(/\D/g, ""))} />
        </label>
        <label className="field"><span>{t("wf.record")}</span>
          <input inputMode="numeric" defaultValue={query.record} onBlur={(e) => setFilter("record", e.target.value.replace(/\D/g, ""))} />
        </label>
      </form>
      <ErrorMessage error={page.error ?? error} />
      {page.loading && !page.data && <Loading />}
      {page.data && (items.length === 0 ? <p className="muted">{t("wf.no_runs")}</p> : (
        <table className="records">
          <thead><tr><th>#</th><th>{t("wf.workflow")}</th><th>{t("wf.version")}</th><th>{t("wf.record")}</th>
            <th>{t("wf.status")}</th><th>{t("wf.started")}</th></tr></thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td><Link to={`/workflows/runs/${r.id}`}>{r.id}</Link></td>
                <td>{r.workflow}</td>
                <td>{r.version ?? "—"}</td>
                <td>{r.object && r.record_id ? <Link to={`/o/${r.object}/${r.record_id}`}>{r.record_id}</Link> : "—"}</td>
                <td><span className={`chip run-${r.status}`}>{statusText(t, r.status)}</span></td>
                <td>{r.created_at ? formatDateTime(r.created_at, lang) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
      {cursor && (
        <button type="button" onClick={() => {
          workflowsApi.runs({ ...query, cursor }).then((p) => setMore({ key, items: [...(extra?.items ?? []), ...p.items],
            cursor: p.next_cursor }), setError);
        }}>{t("wf.more")}</button>
      )}
    </div>
  );
}
