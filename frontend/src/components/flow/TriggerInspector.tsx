// The side panel for the trigger node: the workflow's `trigger` as a form rendered from the trigger's
// JSON schema (GET /workflow-triggers, the same form machinery as steps), its rules with the rule
// builder, and the enrollment and goal settings that go with starting runs.
import type { RJSFSchema } from "@rjsf/utils";
import type { Rule } from "../../api/types";
import type { TriggerInfo } from "../../api/workflows";
import { useI18n, type MessageKey, type Translate } from "../../i18n";
import { en } from "../../i18n/en";
import { stableJson } from "../../lib/diff";
import { pruneEmpty, triggerKeys, type NodeProblem, type TriggerDoc, type WorkflowDoc } from "../../lib/workflowGraph";
import { RuleField, SchemaForm } from "./StepInspector";

function isRule(prop: unknown): boolean {
  const ref = (prop as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === "string" && ref.endsWith("/rule");
}

/** The schema without its (English-only) descriptions: the form's labels come from the catalogs. */
function withoutDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([k, v]) => !(k === "description" && typeof v === "string"))
    .map(([k, v]) => [k, withoutDescriptions(v)]));
}

function schemaOf(info: TriggerInfo | null | undefined): Record<string, unknown> {
  return (info?.schema ?? { type: "object", properties: { type: { enum: info?.types ?? [] } } }) as Record<string, unknown>;
}

/** The trigger form's schema for a type: only the fields that type takes, rules left to the rule
 * builder, the meta-schema's if/then checks left to the server (it names the field). */
export function triggerSchema(info: TriggerInfo | null | undefined, type: string | undefined): RJSFSchema {
  const schema = schemaOf(info);
  const all = (schema.properties as Record<string, unknown>) ?? {};
  const { keys, required } = triggerKeys(schema, type);
  const properties = Object.fromEntries(Object.entries(all).filter(([k, v]) => keys.includes(k) && !isRule(v)));
  const { allOf: _a, oneOf: _o, anyOf: _n, required: _r, ...rest } = schema;
  return withoutDescriptions({ ...rest, type: "object", properties, required: required.filter((k) => k in properties) }) as RJSFSchema;
}

/** The trigger's rule-valued fields for a type (`when`; `becomes` on updates; `rule` on schedules). */
export function triggerRules(info: TriggerInfo | null | undefined, type: string | undefined): string[] {
  const schema = schemaOf(info);
  const all = (schema.properties as Record<string, unknown>) ?? {};
  return triggerKeys(schema, type).keys.filter((k) => isRule(all[k]));
}

/** A trigger type in the user's language (a type without a catalog entry is shown as it is). */
export function triggerTypeLabel(t: Translate, type: string): string {
  return `wf.trigger_${type}` in en ? t(`wf.trigger_${type}` as MessageKey) : type;
}

interface Props {
  doc: WorkflowDoc;
  info: TriggerInfo | null | undefined;
  problems: NodeProblem[];
  readOnly: boolean;
  /** The new trigger and the fields its type takes (the others are dropped from the definition). */
  onTrigger: (trigger: TriggerDoc, keys: string[]) => void;
  onSetting: (key: "enrollment" | "goal", value: unknown) => void;
}

export function TriggerInspector({ doc, info, problems, readOnly, onTrigger, onSetting }: Props) {
  const { t } = useI18n();
  const known = (key: string) => key in en;
  const trigger = (doc.trigger ?? {}) as TriggerDoc;
  const type = trigger.type;
  const schema = triggerSchema(info, type);
  const rules = triggerRules(info, type);
  const types = ((schema.properties?.type as { enum?: string[] } | undefined)?.enum) ?? info?.types ?? [];
  const title = (key: string) => (known(`wf.tf_${key}`) ? t(`wf.tf_${key}` as MessageKey) : key);
  const uiSchema: Record<string, unknown> = {
    type: { "ui:title": t("wf.trigger_type"), "ui:enumNames": types.map((v) => triggerTypeLabel(t, v)) },
    ...Object.fromEntries(Object.keys(schema.properties ?? {}).filter((k) => k !== "type")
      .map((k) => [k, { "ui:title": title(k) }])),
  };
  const formValue = Object.fromEntries(Object.entries(trigger).filter(([k]) => !rules.includes(k)));
  const ruleValues = Object.fromEntries(Object.entries(trigger).filter(([k]) => rules.includes(k)));
  const object = String(doc.object ?? "");
  const enrollment = info?.enrollment ? withoutDescriptions(info.enrollment) as RJSFSchema : undefined;
  const reenroll = ((enrollment?.properties as Record<string, { enum?: string[] }> | undefined)?.reenroll?.enum) ?? [];

  return (
    <section className="flow-inspector" aria-label={t("wf.trigger_inspector")} data-testid="trigger-inspector">
      <h3>{t("wf.trigger")} {type && <code>{type}</code>}</h3>
      {problems.length > 0 && (
        <ul className="problems" role="alert">{problems.map((p, i) => <li key={i}>{p.message}</li>)}</ul>
      )}
      {/* key: a new type is a new form (RJSF keeps stale fields of the old one otherwise) */}
      <SchemaForm formKey={`trigger:${type ?? ""}`} schema={schema} value={formValue} readOnly={readOnly} uiSchema={uiSchema}
        onChange={(data) => {
          if (stableJson(data) !== stableJson(pruneEmpty(formValue))) {
            onTrigger({ ...data, ...ruleValues }, triggerKeys(schemaOf(info), String(data.type ?? "")).keys);
          }
        }} />
      {object && rules.map((key) => (
        <div className="flow-rule" key={`${type}:${key}`}>
          <h4>{title(key)}</h4>
          <RuleField object={object} rule={ruleValues[key] as Rule | undefined} readOnly={readOnly}
            onChange={(next) => {
              const copy: TriggerDoc = { ...trigger };
              if (next) copy[key] = next;
              else delete copy[key];
              onTrigger(copy, triggerKeys(schemaOf(info), type).keys);
            }} />
        </div>
      ))}
      {enrollment && (
        <fieldset className="flow-exits">
          <legend>{t("wf.enrollment")}</legend>
          <SchemaForm formKey="enrollment" schema={enrollment} readOnly={readOnly}
            value={(doc.enrollment as Record<string, unknown>) ?? {}}
            uiSchema={{ reenroll: { "ui:title": t("wf.reenroll"), "ui:enumNames": reenroll.map((v) => (known(`wf.reenroll_${v}`)
              ? t(`wf.reenroll_${v}` as MessageKey) : v)) }, time_driven: { "ui:title": t("wf.time_driven") } }}
            onChange={(data) => {
              if (stableJson(data) !== stableJson(doc.enrollment ?? {})) onSetting("enrollment", data);
            }} />
        </fieldset>
      )}
      {info?.goal && object && (
        <div className="flow-rule">
          <h4>{t("wf.goal")}</h4>
          <p className="muted">{t("wf.goal_help")}</p>
          <RuleField object={object} rule={doc.goal as Rule | undefined} readOnly={readOnly}
            onChange={(next) => onSetting("goal", next)} />
        </div>
      )}
    </section>
  );
}
