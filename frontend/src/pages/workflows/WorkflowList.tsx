// Workflows: the list (published version, draft, run counts) and a new draft from a name, an object
// and a trigger. Part of the main bundle; the editor itself loads lazily.
import { useState, type FormEvent } from "react";
import { workflowsApi, type WorkflowSummary } from "../../api/workflows";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { isIdentifier } from "../../lib/designer";
import { Link, useRouter } from "../../lib/router";
import { useSession } from "../../session";

/** The number of runs, whether the server gives a count or counts per status. */
export function runCount(runs: WorkflowSummary["runs"]): number {
  if (typeof runs === "number") return runs;
  return Object.values(runs ?? {}).reduce((a, n) => a + (typeof n === "number" ? n : 0), 0);
}

const TRIGGERS = ["record_created", "record_updated", "manual"] as const;

export function WorkflowList() {
  const { t, label } = useI18n();
  const { objects } = useSession();
  const { navigate } = useRouter();
  const list = useLoad(() => workflowsApi.list(), []);
  const [name, setName] = useState("");
  const [object, setObject] = useState("");
  const [trigger, setTrigger] = useState<(typeof TRIGGERS)[number]>("record_created");
  const [error, setError] = useState<unknown>(null);
  const [invalid, setInvalid] = useState("");

  async function create(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (!isIdentifier(name)) { setInvalid(t("wf.bad_name")); return; }
    if (!object) { setInvalid(t("wf.choose_object")); return; }
    setInvalid("");
    try {
      await workflowsApi.saveDraft(name, { name, object, label: { en: name, zh: name }, trigger: { type: trigger }, steps: [] });
      navigate(`/workflows/${encodeURIComponent(name)}`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div>
      <PageHeader title={t("wf.title")}>
        <Link to="/workflows/runs">{t("wf.runs")}</Link>
      </PageHeader>
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && (
        <table className="records">
          <thead>
            <tr><th>{t("wf.name")}</th><th>{t("wf.object")}</th><th>{t("wf.version")}</th><th>{t("wf.runs")}</th></tr>
          </thead>
          <tbody>
            {list.data.map((w) => (
              <tr key={w.name}>
                <td><Link to={`/workflows/${encodeURIComponent(w.name)}`}>{label(w.label, w.name)}</Link>
                  {w.draft && <span className="chip">{t("wf.draft")}</span>}</td>
                <td>{w.object}</td>
                <td>{w.published_version ?? "—"}</td>
                <td><Link to={`/workflows/runs?workflow=${encodeURIComponent(w.name)}`}>{runCount(w.runs)}</Link></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="card" onSubmit={(e) => void create(e)} aria-label={t("wf.new")}>
        <h3>{t("wf.new")}</h3>
        <label className="field"><span>{t("wf.name")}</span>
          <input name="wf-name" value={name} onChange={(e) => setName(e.target.value.trim())} placeholder="new_lead_follow_up" />
        </label>
        <label className="field"><span>{t("wf.object")}</span>
          <select name="wf-object" value={object} onChange={(e) => setObject(e.target.value)}>
            <option value="">{t("common.choose")}</option>
            {objects.map((o) => <option key={o.name} value={o.name}>{label(o.label, o.name)}</option>)}
          </select>
        </label>
        <label className="field"><span>{t("wf.trigger")}</span>
          <select name="wf-trigger" value={trigger} onChange={(e) => setTrigger(e.target.value as (typeof TRIGGERS)[number])}>
            {TRIGGERS.map((k) => <option key={k} value={k}>{t(`wf.trigger_${k}`)}</option>)}
          </select>
        </label>
        {invalid && <p role="alert" className="error">{invalid}</p>}
        <ErrorMessage error={error} />
        <button type="submit" className="primary">{t("wf.create")}</button>
      </form>
    </div>
  );
}
