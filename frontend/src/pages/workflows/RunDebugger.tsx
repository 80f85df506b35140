// The run debugger (lazy chunk): the run's version of the graph with each node's last status, and
// per step execution its input, output, error, attempts, timings, foreach iteration and the rule
// evaluation that chose a branch (each condition's value). "Re-run from this step" starts a new run
// linked to this one (steps with side effects ask first); "test this node" runs one node dry.
import { useMemo, useState } from "react";
import { ReactFlowProvider } from "@xyflow/react";
import { ApiError, api } from "../../api/client";
import { workflowsApi, type Run, type RunStep, type StepTypeInfo, type TestNodeResult } from "../../api/workflows";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { FlowCanvas } from "../../components/flow/FlowCanvas";
import { useI18n } from "../../i18n";
import { formatWhen } from "../../lib/format";
import { Link, useRouter } from "../../lib/router";
import type { WorkflowDoc } from "../../lib/workflowGraph";
import { statusText } from "./RunList";

export function nodeOf(step: RunStep): string {
  return String(step.node ?? step.step ?? "");
}

function duration(step: RunStep): string {
  if (!step.started_at || !step.finished_at) return "";
  const ms = new Date(step.finished_at).getTime() - new Date(step.started_at).getTime();
  return Number.isFinite(ms) ? `${ms} ms` : "";
}

function Json({ value }: { value: unknown }) {
  if (value === undefined || value === null) return <span className="muted">—</span>;
  return <pre className="flow-json">{JSON.stringify(value, null, 2)}</pre>;
}

/** The nodes the server says would repeat their effects (409 confirm_side_effects), or null. */
export function effectsToConfirm(e: unknown): string | null {
  if (!(e instanceof ApiError) || e.status !== 409 || e.code !== "confirm_side_effects") return null;
  const item = e.problems.find((p) => p.code === "confirm_side_effects");
  return item?.message ?? "";
}

function StepDetail({ step, index, sideEffects, onRerun, onTest }: {
  step: RunStep; index: number; sideEffects: boolean;
  onRerun: (node: string, confirmed: boolean) => Promise<void>; onTest: (node: string) => Promise<TestNodeResult>;
}) {
  const { t, lang } = useI18n();
  const node = nodeOf(step);
  const [asking, setAsking] = useState<string | null>(null);
  const [test, setTest] = useState<TestNodeResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const conditions = step.evaluation?.conditions ?? [];
  return (
    <details className="run-step" data-node={node} open={step.status === "failed"}>
      <summary>
        <span className="run-step-index">{index + 1}.</span> <code>{node}</code> <span className="muted">{step.kind ?? step.type}</span>{" "}
        <span className={`chip run-${step.status}`}>{statusText(t, step.status)}</span>
        {step.iteration !== undefined && step.iteration !== null && <span className="chip">{t("wf.iteration", { n: step.iteration })}</span>}
      </summary>
      <dl className="run-step-facts">
        <dt>{t("wf.attempts")}</dt><dd>{step.attempts ?? 0}</dd>
        <dt>{t("wf.started")}</dt><dd>{formatWhen(step.started_at, lang) || "—"}</dd>
        <dt>{t("wf.finished")}</dt><dd>{formatWhen(step.finished_at, lang) || "—"} {duration(step) && <span className="muted">({duration(step)})</span>}</dd>
        {step.due_at && <><dt>{t("wf.due")}</dt><dd>{formatWhen(step.due_at, lang)}</dd></>}
      </dl>
      <h5>{t("wf.input")}</h5><Json value={step.input} />
      <h5>{t("wf.output")}</h5><Json value={step.output} />
      {step.error !== undefined && step.error !== null && <><h5>{t("wf.error")}</h5><Json value={step.error} /></>}
      {step.evaluation && (
        <div className="run-evaluation">
          <h5>{t("wf.evaluation", { result: String(step.evaluation.result) })}</h5>
          {conditions.length > 0 && (
            <table className="records">
              <thead><tr><th>{t("wf.field")}</th><th>{t("wf.op")}</th><th>{t("wf.value")}</th><th>{t("wf.actual")}</th><th>{t("wf.result")}</th></tr></thead>
              <tbody>{conditions.map((c, i) => (
                <tr key={i} className={c.result ? "cond-true" : "cond-false"}>
                  <td>{c.field}</td><td>{c.op}</td><td>{JSON.stringify(c.value)}</td><td>{JSON.stringify(c.actual)}</td>
                  <td>{c.result ? "✓" : "✗"}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
        </div>
      )}
      <div className="actions">
        <button type="button" onClick={() => {
          setError(null);
          if (sideEffects) { setAsking(node); return; }
          onRerun(node, false).catch((e: unknown) => {
            const nodes = effectsToConfirm(e);
            if (nodes === null) setError(e);
            else setAsking(nodes || node);
          });
        }}>
          {t("wf.rerun_from")}
        </button>
        <button type="button" onClick={() => { setError(null); onTest(node).then(setTest, setError); }}>{t("wf.test_node")}</button>
      </div>
      {asking !== null && (
        <div className="dialog" role="dialog" aria-label={t("wf.rerun_from")}>
          <p>{t("wf.side_effects_confirm", { node: asking })}</p>
          <button type="button" className="primary" onClick={() => { setAsking(null); void onRerun(node, true).catch(setError); }}>
            {t("wf.rerun_confirm")}
          </button>
          <button type="button" onClick={() => setAsking(null)}>{t("common.cancel")}</button>
        </div>
      )}
      <ErrorMessage error={error} />
      {test && <div data-testid="test-result">{test.dry_run && <p className="muted">{t("wf.dry_run")}</p>}<Json value={test} /></div>}
    </details>
  );
}

async function loadRun(id: number): Promise<{ run: Run; doc: WorkflowDoc | null; steps: StepTypeInfo[] }> {
  const [run, steps] = await Promise.all([workflowsApi.run(id), workflowsApi.steps().catch(() => [] as StepTypeInfo[])]);
  let doc: WorkflowDoc | null = null;
  try {
    doc = (run.version ? (await api.version("workflow", run.workflow, run.version)).body
      : await api.definition("workflow", run.workflow)) as WorkflowDoc;
  } catch {
    doc = await api.definition("workflow", run.workflow).then((d) => d as WorkflowDoc, () => null);
  }
  return { run, doc, steps };
}

export default function RunDebugger({ id }: { id: number }) {
  const { t } = useI18n();
  const { navigate } = useRouter();
  const loaded = useLoad(() => loadRun(id), [id]);
  const statuses = useMemo(() => {
    const out: Record<string, string> = {};
    for (const s of loaded.data?.run.steps ?? []) out[nodeOf(s)] = s.status;
    return out;
  }, [loaded.data]);
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  const { run, doc, steps } = loaded.data;
  const effects = new Map(steps.map((s) => [s.name, !!s.side_effects]));
  const typeOf = (node: string) => doc?.steps.find((s) => s.id === node)?.type ?? "";
  const graph = doc ? { ...doc, steps: doc.steps ?? [] } : null;

  return (
    <div className="run-debugger">
      <PageHeader title={t("wf.run_title", { id: run.id })}>
        <Link to={`/workflows/runs?workflow=${encodeURIComponent(run.workflow)}`}>{t("wf.runs")}</Link>
        <Link to={`/workflows/${encodeURIComponent(run.workflow)}`}>{t("wf.open_editor")}</Link>
      </PageHeader>
      <dl className="run-facts">
        <dt>{t("wf.workflow")}</dt><dd>{run.workflow}</dd>
        <dt>{t("wf.version")}</dt><dd data-testid="run-version">{run.version ?? "—"}</dd>
        <dt>{t("wf.status")}</dt><dd><span className={`chip run-${run.status}`}>{statusText(t, run.status)}</span></dd>
        <dt>{t("wf.record")}</dt><dd>{run.object && run.record_id ? <Link to={`/o/${run.object}/${run.record_id}`}>{run.record_id}</Link> : "—"}</dd>
        {run.rerun_of && <><dt>{t("wf.rerun_of")}</dt><dd><Link to={`/workflows/runs/${run.rerun_of}`}>{run.rerun_of}</Link></dd></>}
      </dl>
      {run.error !== undefined && run.error !== null && <Json value={run.error} />}
      {graph && (
        <ReactFlowProvider>
          <FlowCanvas doc={graph} statuses={statuses} readOnly />
        </ReactFlowProvider>
      )}
      <h3>{t("wf.steps")}</h3>
      {(run.steps ?? []).map((s, i) => (
        <StepDetail key={i} step={s} index={i} sideEffects={effects.get(typeOf(nodeOf(s))) ?? effects.get(s.type ?? "") ?? false}
          onRerun={async (node, confirmed) => {
            const answer = await workflowsApi.rerun(run.id, node, confirmed);
            navigate(`/workflows/runs/${answer.run.id}`);
          }}
          onTest={(node) => workflowsApi.testNode(run.workflow, node, Number(run.record_id ?? 0))} />
      ))}
    </div>
  );
}
