// The side panel for the selected step: its exits (re-point any of them to another step without
// deleting anything), its arguments as a form rendered from the step type's JSON schema (RJSF), a
// rule builder for branch rules, and "test this node" on a sample record (sends and webhooks dry-run).
import { useMemo, useState } from "react";
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { api } from "../../api/client";
import type { Rule } from "../../api/types";
import type { StepTypeInfo, TestNodeResult } from "../../api/workflows";
import { useI18n } from "../../i18n";
import { fromRule, toRule, type GroupNode } from "../../lib/rules";
import { argsOf, exitsOf, kindOf, pruneEmpty, structuralKeys, type NodeProblem, type WorkflowDoc } from "../../lib/workflowGraph";
import { ErrorMessage, useLoad } from "../common";
import { RuleBuilder } from "../RuleBuilder";

/** The schema of a step type's arguments: links and the rule (edited apart) left out. */
export function argsSchema(info: StepTypeInfo | undefined): RJSFSchema {
  const LINK_KEYS = [...structuralKeys(info?.kind ?? info?.name ?? ""), "rule"];
  const schema = (info?.schema ?? { type: "object" }) as Record<string, unknown>;
  const props = { ...((schema.properties as Record<string, unknown>) ?? {}) };
  for (const key of LINK_KEYS) delete props[key];
  const required = ((schema.required as string[]) ?? []).filter((k) => !LINK_KEYS.includes(k));
  const { oneOf: _o, anyOf: _a, ...rest } = schema;
  return { ...rest, type: "object", properties: props, required } as RJSFSchema;
}

interface Props {
  doc: WorkflowDoc;
  stepId: string;
  info: StepTypeInfo | undefined;
  problems: NodeProblem[];
  readOnly: boolean;
  onExit: (handle: string, target: string | null) => void;
  onArgs: (args: Record<string, unknown>) => void;
  onTest: (recordId: number) => Promise<TestNodeResult>;
}

/** A JSON-schema form (RJSF) as the builder uses it: no submit button, untouched parts pruned from
 * the output. Shared by the step and the trigger inspectors. */
export function SchemaForm({ formKey, schema, value, readOnly, uiSchema, onChange }: {
  formKey: string; schema: RJSFSchema; value: Record<string, unknown>; readOnly: boolean;
  uiSchema?: Record<string, unknown>; onChange: (data: Record<string, unknown>) => void;
}) {
  return (
    <Form key={formKey} schema={schema} formData={value} validator={validator} disabled={readOnly}
      liveValidate={false} showErrorList={false}
      experimental_defaultFormStateBehavior={{ arrayMinItems: { populate: "never" }, emptyObjectFields: "skipDefaults" }}
      onChange={(e) => onChange(pruneEmpty(e.formData ?? {}) as Record<string, unknown>)}
      uiSchema={{ ...uiSchema, "ui:submitButtonOptions": { norender: true } }} />
  );
}

/** A rule edited with the rule builder against the workflow's object (branch rules, trigger conditions, goals). */
export function RuleField({ object, rule, onChange, readOnly }: {
  object: string; rule: Rule | undefined; onChange: (rule: Rule | null) => void; readOnly: boolean;
}) {
  const detail = useLoad(() => api.object(object), [object]);
  const [value, setValue] = useState<GroupNode>(() => fromRule(rule));
  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data) return null;
  if (readOnly) return <pre className="flow-json">{JSON.stringify(rule, null, 2)}</pre>;
  return (
    <RuleBuilder fields={detail.data.fields} value={value}
      onChange={(next) => { setValue(next); onChange(toRule(next, detail.data!.fields)); }} />
  );
}

export function StepInspector({ doc, stepId, info, problems, readOnly, onExit, onArgs, onTest }: Props) {
  const { t, label } = useI18n();
  const index = doc.steps.findIndex((s) => s.id === stepId);
  const step = doc.steps[index];
  const schema = useMemo(() => argsSchema(info), [info]);
  const [record, setRecord] = useState("");
  const [test, setTest] = useState<TestNodeResult | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  if (!step) return null;
  const kind = kindOf(step);
  const exits = exitsOf(doc, index);
  const args = argsOf(step);
  const { rule, ...formArgs } = args;
  const isBranch = kind === "branch" || kind === "if";
  const others = doc.steps.filter((s) => s.id !== stepId);

  return (
    <section className="flow-inspector" aria-label={t("wf.inspector")}>
      <h3>{label(info?.label, step.type ?? kind)} <code>{step.id}</code></h3>
      {problems.length > 0 && (
        <ul className="problems" role="alert">{problems.map((p, i) => <li key={i}>{p.message}</li>)}</ul>
      )}
      {exits.length > 0 && (
        <fieldset className="flow-exits">
          <legend>{t("wf.exits")}</legend>
          {exits.map((exit) => (
            <label key={exit.handle} className="field">
              <span>{t("wf.exit_to", { exit: exit.handle })}</span>
              <select aria-label={t("wf.exit_to", { exit: exit.handle })} value={exit.target ?? ""} disabled={readOnly}
                onChange={(e) => onExit(exit.handle, e.target.value || null)}>
                <option value="">{exit.handle === "next" ? t("wf.exit_end") : t("common.choose")}</option>
                {others.map((s) => <option key={s.id} value={s.id}>{s.id}</option>)}
              </select>
              {exit.implicit && <small className="muted">{t("wf.implicit")}</small>}
            </label>
          ))}
        </fieldset>
      )}
      {isBranch && (
        <div className="flow-rule">
          <h4>{t("wf.rule")}</h4>
          <RuleField key={stepId} object={String(doc.object ?? "")} rule={rule as Rule | undefined} readOnly={readOnly}
            onChange={(next) => onArgs({ ...args, rule: next ?? {} })} />
        </div>
      )}
      {Object.keys(schema.properties ?? {}).length > 0 && (
        <SchemaForm formKey={stepId} schema={schema} value={formArgs} readOnly={readOnly}
          onChange={(data) => onArgs(rule === undefined ? data : { ...data, rule })} />
      )}
      {kind !== "end" && (
        <div className="flow-test">
          <h4>{t("wf.test_node")}</h4>
          <label className="field">
            <span>{t("wf.sample_record")}</span>
            <input inputMode="numeric" value={record} onChange={(e) => setRecord(e.target.value.replace(/\D/g, ""))} />
          </label>
          <button type="button" disabled={!record} onClick={() => {
            setTestError(null);
            onTest(Number(record)).then(setTest, setTestError);
          }}>{t("wf.test_run_node")}</button>
          <ErrorMessage error={testError} />
          {test && (
            <div className="flow-test-result" data-testid="test-result">
              {test.dry_run && <p className="muted">{t("wf.dry_run")}</p>}
              <pre className="flow-json">{JSON.stringify({ output: test.output, evaluation: test.evaluation, error: test.error }, null, 2)}</pre>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
