// The visual workflow builder (loaded lazily: React Flow and elkjs stay out of the main bundle).
// Palette from the step registry, canvas, inspector; undo/redo; duplicate a node or a subgraph;
// save the draft, validate, publish with the policy for runs waiting in older versions; test-run.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { ApiError } from "../../api/client";
import { workflowsApi, type PublishPolicy, type PublishResult, type StepTypeInfo, type TriggerInfo } from "../../api/workflows";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { FlowCanvas } from "../../components/flow/FlowCanvas";
import { StepInspector } from "../../components/flow/StepInspector";
import { TriggerInspector, triggerTypeLabel } from "../../components/flow/TriggerInspector";
import { useI18n } from "../../i18n";
import { Link, useRouter } from "../../lib/router";
import {
  History, TRIGGER_NODE, addStep, duplicate, localProblems, moveSteps, pinLinks, placeProblems, positionOf, reconnect,
  removeSteps, setArgs, setExit, setSetting, setTrigger, type NodeProblem, type WorkflowDoc,
} from "../../lib/workflowGraph";
import { useNarrow } from "./useNarrow";

export function problemsOfError(doc: WorkflowDoc, e: unknown): NodeProblem[] | null {
  if (!(e instanceof ApiError) || e.status !== 422) return null;
  return placeProblems(doc, e.problems.map((p) => ({ field: p.field, code: p.code, message: p.message })));
}

/** Where a step added from the palette goes: below the lowest step, so nothing is hidden under it. */
export function nextPosition(doc: WorkflowDoc): { x: number; y: number } {
  const placed = doc.steps.map(positionOf).filter((p): p is { x: number; y: number } => p !== null);
  if (!placed.length) return { x: 40, y: 40 + doc.steps.length * 110 };
  return { x: placed.reduce((a, p) => Math.min(a, p.x), Infinity), y: Math.max(...placed.map((p) => p.y)) + 110 };
}

function Editor({ name, steps, trigger, initial }: {
  name: string; steps: StepTypeInfo[]; trigger: TriggerInfo | null; initial: WorkflowDoc;
}) {
  const { t, label } = useI18n();
  const flow = useReactFlow();
  const { navigate } = useRouter();
  const narrow = useNarrow();
  const readOnly = narrow;
  const [doc, setDoc] = useState<WorkflowDoc>(initial);
  const history = useRef(new History<WorkflowDoc>());
  const [, setTick] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [server, setServer] = useState<NodeProblem[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [dirty, setDirty] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [policy, setPolicy] = useState<PublishPolicy>("continue");
  const [published, setPublished] = useState<PublishResult | null>(null);
  const [runRecord, setRunRecord] = useState("");
  const titles = useMemo(() => Object.fromEntries(steps.map((s) => [s.name, label(s.label, s.name)])), [steps, label]);
  const infoOf = useMemo(() => new Map(steps.map((s) => [s.name, s])), [steps]);

  const change = useCallback((next: (d: WorkflowDoc) => WorkflowDoc) => {
    setDoc((d) => {
      const after = next(d);
      if (after !== d) history.current.push(d);
      return after;
    });
    setDirty(true);
    setNotice("");
    setTick((n) => n + 1);
  }, []);
  const undo = useCallback(() => {
    setDoc((d) => history.current.undo(d) ?? d);
    setTick((n) => n + 1);
  }, []);
  const redo = useCallback(() => {
    setDoc((d) => history.current.redo(d) ?? d);
    setTick((n) => n + 1);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || (e.target as HTMLElement)?.closest?.("input, textarea, select")) return;
      if (e.key.toLowerCase() === "z") { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
      if (e.key.toLowerCase() === "y") { e.preventDefault(); redo(); }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo]);

  const problems = useMemo(() => [...localProblems(doc), ...server], [doc, server]);
  const onMoved = useCallback((p: Record<string, { x: number; y: number }>) => change((d) => moveSteps(d, p)), [change]);
  const onLayout = useCallback((p: Record<string, { x: number; y: number }>) => setDoc((d) => moveSteps(d, p)), []);
  const onConnect = useCallback((c: { source: string; sourceHandle: string; target: string }) =>
    change((d) => setExit(d, c.source, c.sourceHandle, c.target)), [change]);
  const onReconnect = useCallback((old: { source: string; sourceHandle: string }, c: { source: string; sourceHandle: string; target: string }) =>
    change((d) => reconnect(d, old, c)), [change]);
  const onDelete = useCallback((ids: string[]) => change((d) => removeSteps(d, ids)), [change]);

  async function save(): Promise<boolean> {
    setError(null);
    try {
      const answer = await workflowsApi.saveDraft(name, pinLinks(doc)); // links written out, as the engine asks
      setServer(placeProblems(doc, answer.problems));
      setDirty(false);
      setNotice(answer.problems.length ? t("wf.saved_with_problems", { n: answer.problems.length }) : t("wf.saved"));
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  }

  async function validate() {
    setError(null);
    try {
      const found = placeProblems(doc, await workflowsApi.validate(name, doc));
      setServer(found);
      setNotice(found.length ? t("wf.problems_found", { n: found.length }) : t("wf.valid"));
    } catch (e) {
      setError(e);
    }
  }

  async function publish() {
    setError(null);
    if (dirty && !(await save())) return;
    try {
      const result = await workflowsApi.publish(name, policy);
      setPublished(result);
      setPublishing(false);
      setServer([]);
      setNotice(t("wf.published", { v: result.version }));
    } catch (e) {
      const placed = problemsOfError(doc, e);
      if (placed) {
        setServer(placed);
        setNotice(t("wf.problems_found", { n: placed.length }));
        setPublishing(false);
      } else setError(e);
    }
  }

  async function testRun() {
    setError(null);
    try {
      const run = await workflowsApi.start(name, Number(runRecord));
      navigate(`/workflows/runs/${run.id}`);
    } catch (e) {
      setError(e);
    }
  }

  const selectedStep = selected.length === 1 ? doc.steps.find((s) => s.id === selected[0]) : undefined;
  const triggerSelected = selected.length === 1 && selected[0] === TRIGGER_NODE;
  const steplike = selected.filter((id) => id !== TRIGGER_NODE); // the trigger is neither duplicated nor deleted
  const unplaced = problems.filter((p) => !p.node || (p.node !== TRIGGER_NODE && !doc.steps.some((s) => s.id === p.node)));
  const triggerType = (doc.trigger as { type?: string } | undefined)?.type;
  const triggerCaption = triggerType ? triggerTypeLabel(t, triggerType) : t("wf.trigger_none");

  return (
    <div className={`flow-editor${readOnly ? " flow-readonly" : ""}`}>
      <PageHeader title={`${label(doc.label as never, name)} (${name})`}>
        <Link to={`/workflows/runs?workflow=${encodeURIComponent(name)}`}>{t("wf.runs")}</Link>
      </PageHeader>
      <p className="muted" data-testid="trigger">
        {t("wf.trigger")}: {String((doc.trigger as { type?: string } | undefined)?.type ?? "—")} · {String(doc.object ?? "")}
      </p>
      {readOnly && <p className="muted">{t("wf.phone_read_only")}</p>}
      {!readOnly && (
        <div className="flow-toolbar" role="toolbar" aria-label={t("wf.toolbar")}>
          <button type="button" onClick={undo} disabled={!history.current.canUndo}>{t("wf.undo")}</button>
          <button type="button" onClick={redo} disabled={!history.current.canRedo}>{t("wf.redo")}</button>
          <button type="button" disabled={!steplike.length} onClick={() => change((d) => {
            const copy = duplicate(d, steplike);
            return copy.doc;
          })}>{t("wf.duplicate")}</button>
          <button type="button" disabled={!steplike.length} onClick={() => { onDelete(steplike); setSelected([]); }}>
            {t("common.delete")}
          </button>
          <button type="button" onClick={() => void save()}>{t("wf.save_draft")}</button>
          <button type="button" onClick={() => void validate()}>{t("wf.validate")}</button>
          <button type="button" className="primary" onClick={() => setPublishing(true)}>{t("wf.publish")}</button>
          <label className="inline">
            <span>{t("wf.test_record")}</span>
            <input inputMode="numeric" size={6} value={runRecord} onChange={(e) => setRunRecord(e.target.value.replace(/\D/g, ""))} />
          </label>
          <button type="button" disabled={!runRecord} onClick={() => void testRun()}>{t("wf.test_run")}</button>
        </div>
      )}
      {dirty && <p className="muted">{t("wf.unsaved")}</p>}
      {notice && <p role="status" className="notice">{notice}</p>}
      <ErrorMessage error={error} />
      {unplaced.length > 0 && (
        <ul className="problems" role="alert">{unplaced.map((p, i) => <li key={i}>{p.message}</li>)}</ul>
      )}
      {publishing && (
        <div className="dialog" role="dialog" aria-label={t("wf.publish")}>
          <p>{t("wf.policy_question")}</p>
          {(["continue", "move", "cancel"] as PublishPolicy[]).map((p) => (
            <label key={p} className="radio">
              <input type="radio" name="policy" value={p} checked={policy === p} onChange={() => setPolicy(p)} />
              {t(`wf.policy_${p}`)}
            </label>
          ))}
          <div className="actions">
            <button type="button" className="primary" onClick={() => void publish()}>{t("wf.publish_now")}</button>
            <button type="button" onClick={() => setPublishing(false)}>{t("common.cancel")}</button>
          </div>
        </div>
      )}
      {published && (
        <p className="muted" data-testid="publish-result">
          {t("wf.publish_result", { v: published.version, continued: published.continued ?? 0, moved: published.moved ?? 0,
            cancelled: published.cancelled ?? 0, stayed: (published.stayed ?? []).length })}
        </p>
      )}
      <div className="flow-layout">
        {!readOnly && (
          <aside className="flow-palette" aria-label={t("wf.palette")}>
            <h3>{t("wf.palette")}</h3>
            {steps.map((s) => (
              <button key={s.name} type="button" className="flow-palette-item" data-step={s.name}
                onClick={() => change((d) => {
                  const added = addStep(d, s.name, nextPosition(d));
                  queueMicrotask(() => setSelected([added.id]));
                  setTimeout(() => void flow.fitView({ duration: 0 }), 50);
                  return added.doc;
                })}>
                + {label(s.label, s.name)}
              </button>
            ))}
          </aside>
        )}
        <FlowCanvas doc={doc} showTrigger triggerTitle={t("wf.trigger")} triggerCaption={triggerCaption} problems={problems}
          titles={titles} readOnly={readOnly} onConnect={onConnect} onReconnect={onReconnect} onMoved={onMoved} onSelect={setSelected} onDelete={onDelete} onLayout={onLayout} />
        {selectedStep && (
          <StepInspector key={selectedStep.id} doc={doc} stepId={selectedStep.id} readOnly={readOnly}
            info={infoOf.get(selectedStep.type ?? "")} problems={problems.filter((p) => p.node === selectedStep.id)}
            onExit={(handle, target) => change((d) => setExit(d, selectedStep.id, handle, target))}
            onArgs={(args) => change((d) => setArgs(d, selectedStep.id, args))}
            onTest={(recordId) => workflowsApi.testNode(name, selectedStep.id, recordId, doc)} />
        )}
        {triggerSelected && (
          <TriggerInspector doc={doc} info={trigger} readOnly={readOnly} problems={problems.filter((p) => p.node === TRIGGER_NODE)}
            onTrigger={(next, keys) => change((d) => setTrigger(d, next, keys))}
            onSetting={(key, value) => change((d) => setSetting(d, key, value))} />
        )}
      </div>
    </div>
  );
}

export default function WorkflowEditor({ name }: { name: string }) {
  const loaded = useLoad(async () => {
    const [steps, trigger, draft] = await Promise.all([workflowsApi.steps().catch(() => [] as StepTypeInfo[]),
      workflowsApi.triggers().catch(() => null), workflowsApi.draft(name)]);
    return { steps, trigger, draft };
  }, [name]);
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  const definition = loaded.data.draft.definition;
  return (
    <ReactFlowProvider>
      <Editor name={name} steps={loaded.data.steps} trigger={loaded.data.trigger} initial={{ ...definition, steps: definition.steps ?? [] }} />
    </ReactFlowProvider>
  );
}
