// The visual rule builder: nested all/any groups of field conditions and tag conditions, with
// the operators each field type allows and inputs shaped by the operator (lists, ranges,
// relative dates, weekdays). It edits the builder model; lib/rules.ts turns it into rule JSON.
import type { FieldInfo, Label } from "../api/types";
import { useI18n, type MessageKey } from "../i18n";
import {
  SYSTEM_FIELDS, defaultValue, emptyGroup, newCondition, newId, operatorsFor, updateNode, valueShape,
  type BuilderNode, type ConditionNode, type GroupNode,
} from "../lib/rules";

interface Props {
  fields: FieldInfo[];
  value: GroupNode;
  onChange: (value: GroupNode) => void;
  /** Tag suggestions for tag conditions: names, or names with their labels (shown and matched as typed). */
  tags?: (string | { name: string; label?: Label })[];
}

export function RuleBuilder({ fields, value, onChange, tags = [] }: Props) {
  const { label } = useI18n();
  const all = [...fields.filter((f) => f.type !== "json"), ...SYSTEM_FIELDS.filter((s) => !fields.some((f) => f.name === s.name))];
  const set = (id: string, change: (n: BuilderNode) => BuilderNode | null) => onChange(updateNode(value, id, change));
  return (
    <div className="rule-builder">
      <datalist id="rule-tag-names">
        {tags.map((tag) => (typeof tag === "string" ? <option key={tag} value={tag} />
          : <option key={tag.name} value={tag.name} label={label(tag.label, tag.name)}>{label(tag.label, tag.name)}</option>))}
      </datalist>
      <Group node={value} fields={all} set={set} root />
    </div>
  );
}

type Setter = (id: string, change: (n: BuilderNode) => BuilderNode | null) => void;

function Group({ node, fields, set, root = false }: { node: GroupNode; fields: FieldInfo[]; set: Setter; root?: boolean }) {
  const { t } = useI18n();
  const add = (child: BuilderNode) => set(node.id, (n) => ({ ...(n as GroupNode), children: [...(n as GroupNode).children, child] }));
  return (
    <fieldset className="rule-group">
      <legend className="rule-group-head">
        <select aria-label={t("rules.match")} value={node.mode}
          onChange={(e) => set(node.id, (n) => ({ ...(n as GroupNode), mode: e.target.value as "all" | "any" }))}>
          <option value="all">{t("rules.all")}</option>
          <option value="any">{t("rules.any")}</option>
        </select>
        <label className="inline">
          <input type="checkbox" checked={node.negate}
            onChange={(e) => set(node.id, (n) => ({ ...(n as GroupNode), negate: e.target.checked }))} />
          {t("rules.not")}
        </label>
        {!root && (
          <button type="button" className="link danger" onClick={() => set(node.id, () => null)}>{t("rules.remove_group")}</button>
        )}
      </legend>
      {node.children.length === 0 && <p className="muted small">{t("rules.empty")}</p>}
      {node.children.map((child) => {
        if (child.kind === "group") return <Group key={child.id} node={child} fields={fields} set={set} />;
        if (child.kind === "field") return <Condition key={child.id} node={child} fields={fields} set={set} />;
        if (child.kind === "tag") {
          return (
            <div className="rule-row" key={child.id}>
              <select aria-label={t("rules.tag_op")} value={child.op}
                onChange={(e) => set(child.id, (n) => ({ ...n, op: e.target.value } as BuilderNode))}>
                <option value="has_tag">{t("op.has_tag")}</option>
                <option value="not_has_tag">{t("op.not_has_tag")}</option>
              </select>
              <input aria-label={t("rules.tag")} list="rule-tag-names" value={child.value}
                onChange={(e) => set(child.id, (n) => ({ ...n, value: e.target.value } as BuilderNode))} />
              <button type="button" className="link danger" aria-label={t("rules.remove")} onClick={() => set(child.id, () => null)}>×</button>
            </div>
          );
        }
        return (
          <div className="rule-row" key={child.id}>
            <code className="rule-raw">{JSON.stringify(child.rule)}</code>
            <button type="button" className="link danger" aria-label={t("rules.remove")} onClick={() => set(child.id, () => null)}>×</button>
          </div>
        );
      })}
      <div className="rule-add">
        <button type="button" onClick={() => add(newCondition(fields[0]))}>{t("rules.add_condition")}</button>
        <button type="button" onClick={() => add({ kind: "tag", id: newId(), op: "has_tag", value: "" })}>{t("rules.add_tag")}</button>
        <button type="button" onClick={() => add(emptyGroup(node.mode === "all" ? "any" : "all"))}>{t("rules.add_group")}</button>
      </div>
    </fieldset>
  );
}

function opKey(op: string): MessageKey {
  return ("op." + op) as MessageKey;
}

function Condition({ node, fields, set }: { node: ConditionNode; fields: FieldInfo[]; set: Setter }) {
  const { t, label } = useI18n();
  const field = fields.find((f) => f.name === node.field);
  const ops = operatorsFor(field);
  const update = (patch: Partial<ConditionNode>) => set(node.id, (n) => ({ ...(n as ConditionNode), ...patch }));
  return (
    <div className="rule-row">
      <select aria-label={t("rules.field")} value={node.field}
        onChange={(e) => {
          const f = fields.find((x) => x.name === e.target.value);
          const fresh = newCondition(f);
          update({ field: fresh.field, op: fresh.op, value: fresh.value });
        }}>
        {fields.map((f) => <option key={f.name} value={f.name}>{label(f.label, f.name)}</option>)}
      </select>
      <select aria-label={t("rules.operator")} value={node.op}
        onChange={(e) => update({ op: e.target.value, value: defaultValue(e.target.value, node.value) })}>
        {ops.map((op) => <option key={op} value={op}>{t(opKey(op))}</option>)}
      </select>
      <ValueInput field={field} op={node.op} value={node.value} onChange={(v) => update({ value: v })} />
      <button type="button" className="link danger" aria-label={t("rules.remove")} onClick={() => set(node.id, () => null)}>×</button>
    </div>
  );
}

function inputType(field: FieldInfo | undefined): string {
  switch (field?.type) {
    case "integer":
    case "decimal":
    case "relation":
      return "number";
    case "date":
      return "date";
    case "datetime":
      return "datetime-local";
    default:
      return "text";
  }
}

const WEEKDAYS: MessageKey[] = ["weekday.1", "weekday.2", "weekday.3", "weekday.4", "weekday.5", "weekday.6", "weekday.7"];

function ValueInput({ field, op, value, onChange }: {
  field: FieldInfo | undefined; op: string; value: unknown; onChange: (v: unknown) => void;
}) {
  const { t, label } = useI18n();
  const shape = valueShape(op);
  const options = field?.options ?? [];
  const optionLabel = (o: string) => label(field?.option_labels?.[o], o);
  const type = inputType(field);
  if (shape === "none") return null;
  if (shape === "relative") {
    const v = (value ?? { amount: 30, unit: "day" }) as { amount: number; unit: string };
    return (
      <span className="rule-value">
        <input type="number" min={1} aria-label={t("rules.amount")} value={v.amount}
          onChange={(e) => onChange({ ...v, amount: Number(e.target.value) })} />
        <select aria-label={t("rules.unit")} value={v.unit} onChange={(e) => onChange({ ...v, unit: e.target.value })}>
          <option value="day">{t("unit.day")}</option>
          <option value="week">{t("unit.week")}</option>
          <option value="month">{t("unit.month")}</option>
        </select>
      </span>
    );
  }
  if (shape === "weekdays") {
    const days = Array.isArray(value) ? (value as number[]) : [];
    return (
      <span className="rule-value weekdays">
        {WEEKDAYS.map((key, i) => (
          <label key={key} className="inline">
            <input type="checkbox" checked={days.includes(i + 1)}
              onChange={(e) => onChange(e.target.checked ? [...days, i + 1].sort() : days.filter((d) => d !== i + 1))} />
            {t(key)}
          </label>
        ))}
      </span>
    );
  }
  if (shape === "range") {
    const v = Array.isArray(value) ? value : ["", ""];
    return (
      <span className="rule-value">
        <input type={type} aria-label={t("rules.from")} value={String(v[0] ?? "")} onChange={(e) => onChange([e.target.value, v[1]])} />
        <input type={type} aria-label={t("rules.to")} value={String(v[1] ?? "")} onChange={(e) => onChange([v[0], e.target.value])} />
      </span>
    );
  }
  if (shape === "list") {
    const list = Array.isArray(value) ? (value as unknown[]).map(String) : [];
    if (options.length) {
      return (
        <span className="rule-value options" role="group" aria-label={t("rules.value")}>
          {options.map((o) => (
            <label key={o} className="inline">
              <input type="checkbox" checked={list.includes(o)}
                onChange={(e) => onChange(e.target.checked ? [...list, o] : list.filter((x) => x !== o))} />
              {optionLabel(o)}
            </label>
          ))}
        </span>
      );
    }
    return (
      <input aria-label={t("rules.value_list")} placeholder={t("rules.comma_separated")} value={list.join(", ")}
        onChange={(e) => onChange(e.target.value.split(",").map((s) => s.trim()).filter(Boolean))} />
    );
  }
  if (field?.type === "boolean") {
    return (
      <select aria-label={t("rules.value")} value={String(value ?? "true")} onChange={(e) => onChange(e.target.value === "true")}>
        <option value="true">{t("common.yes")}</option>
        <option value="false">{t("common.no")}</option>
      </select>
    );
  }
  if (options.length) {
    return (
      <select aria-label={t("rules.value")} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t("common.choose")}</option>
        {options.map((o) => <option key={o} value={o}>{optionLabel(o)}</option>)}
      </select>
    );
  }
  return <input type={type} aria-label={t("rules.value")} value={String(value ?? "")} onChange={(e) => onChange(e.target.value)} />;
}
