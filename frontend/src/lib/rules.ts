// The visual rule builder's model and its mapping to and from the rule language JSON (the
// shared contract). Pure functions: the builder component only renders and edits this model.
import type { FieldInfo, Rule } from "../api/types";
import { fromLocalInput } from "./format";

export type ValueShape = "none" | "single" | "list" | "range" | "relative" | "weekdays";

export interface ConditionNode {
  kind: "field";
  id: string;
  field: string;
  op: string;
  value: unknown;
}

export interface TagNode {
  kind: "tag";
  id: string;
  op: "has_tag" | "not_has_tag";
  value: string;
}

export interface GroupNode {
  kind: "group";
  id: string;
  mode: "all" | "any";
  negate: boolean;
  children: BuilderNode[];
}

/** A rule the builder does not edit (related-record rules): kept as JSON, shown read-only. */
export interface RawNode {
  kind: "raw";
  id: string;
  rule: Rule;
}

export type BuilderNode = ConditionNode | TagNode | GroupNode | RawNode;

let counter = 0;
export function newId(): string {
  counter += 1;
  return "n" + counter;
}

export const SYSTEM_FIELDS: FieldInfo[] = [
  { name: "id", type: "integer", label: { en: "ID", zh: "编号" }, operators: ["eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between"] },
  { name: "created_at", type: "datetime", label: { en: "Created", zh: "创建时间" } },
  { name: "updated_at", type: "datetime", label: { en: "Updated", zh: "更新时间" } },
  { name: "owner_id", type: "relation", label: { en: "Owner", zh: "负责人" }, target: "user" },
];

const DATE_OPS = ["eq", "ne", "lt", "lte", "gt", "gte", "between", "before", "after", "within_last",
  "within_next", "on_weekday", "this_month", "is_empty", "is_not_empty"];

/** Fallback operator lists (the server's field list carries the authoritative ones). */
const DEFAULT_OPS: Record<string, string[]> = {
  text: ["eq", "ne", "in", "not_in", "contains", "starts_with", "is_empty", "is_not_empty"],
  integer: ["eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "is_empty", "is_not_empty"],
  date: DATE_OPS,
  datetime: DATE_OPS,
  select: ["eq", "ne", "in", "not_in", "is_empty", "is_not_empty"],
  multiselect: ["has_any", "has_all", "is_empty", "is_not_empty"],
  boolean: ["eq", "ne", "is_empty", "is_not_empty"],
  relation: ["eq", "ne", "in", "not_in", "is_empty", "is_not_empty"],
  json: ["is_empty", "is_not_empty"],
};
DEFAULT_OPS.textarea = DEFAULT_OPS.text;
DEFAULT_OPS.email = DEFAULT_OPS.text;
DEFAULT_OPS.phone = DEFAULT_OPS.text;
DEFAULT_OPS.url = DEFAULT_OPS.text;
DEFAULT_OPS.decimal = DEFAULT_OPS.integer;

export function operatorsFor(field: FieldInfo | undefined): string[] {
  if (!field) return [];
  if (field.operators && field.operators.length) return field.operators;
  return DEFAULT_OPS[field.type] ?? ["eq", "ne", "is_empty", "is_not_empty"];
}

export function valueShape(op: string): ValueShape {
  switch (op) {
    case "is_empty":
    case "is_not_empty":
    case "this_month":
      return "none";
    case "in":
    case "not_in":
    case "has_any":
    case "has_all":
      return "list";
    case "between":
      return "range";
    case "within_last":
    case "within_next":
      return "relative";
    case "on_weekday":
      return "weekdays";
    default:
      return "single";
  }
}

/** The value a condition starts with after its operator changes (keeps what still fits). */
export function defaultValue(op: string, previous?: unknown): unknown {
  const shape = valueShape(op);
  switch (shape) {
    case "none":
      return undefined;
    case "list":
      return Array.isArray(previous) ? previous : previous === undefined || previous === "" ? [] : [previous];
    case "range":
      return Array.isArray(previous) && previous.length === 2 ? previous : ["", ""];
    case "relative":
      return previous && typeof previous === "object" && !Array.isArray(previous) ? previous : { amount: 30, unit: "day" };
    case "weekdays":
      return Array.isArray(previous) ? previous.filter((d) => typeof d === "number") : [1];
    default:
      return Array.isArray(previous) ? previous[0] ?? "" : previous ?? "";
  }
}

export function emptyGroup(mode: "all" | "any" = "all"): GroupNode {
  return { kind: "group", id: newId(), mode, negate: false, children: [] };
}

export function newCondition(field: FieldInfo | undefined): ConditionNode {
  const op = operatorsFor(field)[0] ?? "eq";
  return { kind: "field", id: newId(), field: field?.name ?? "", op, value: defaultValue(op) };
}

/** Convert a typed-in value to what the field stores (numbers for numeric fields). */
export function castValue(field: FieldInfo | undefined, value: unknown): unknown {
  if (!field) return value;
  const numeric = field.type === "integer" || field.type === "relation";
  const cast = (v: unknown): unknown => {
    if (numeric && typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
    if (field.type === "boolean" && typeof v === "string") return v === "true";
    // datetime-local gives a wall time without a zone (read on the user's clock): send an instant
    if (field.type === "datetime" && typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) {
      return fromLocalInput(v) ?? v;
    }
    return v;
  };
  return Array.isArray(value) ? value.map(cast) : cast(value);
}

/** Builder tree -> rule JSON. Empty groups vanish; a root with nothing in it is null (no filter). */
export function toRule(node: BuilderNode, fields: FieldInfo[] = []): Rule | null {
  switch (node.kind) {
    case "raw":
      return node.rule;
    case "tag":
      return node.value ? { op: node.op, value: node.value } : null;
    case "field": {
      if (!node.field || !node.op) return null;
      const field = [...fields, ...SYSTEM_FIELDS].find((f) => f.name === node.field);
      if (valueShape(node.op) === "none") return { field: node.field, op: node.op };
      return { field: node.field, op: node.op, value: castValue(field, node.value) };
    }
    case "group": {
      const parts = node.children.map((c) => toRule(c, fields)).filter((r): r is Rule => r !== null);
      if (!parts.length) return null;
      const combined: Rule = node.mode === "all" ? { all: parts } : { any: parts };
      return node.negate ? { not: combined } : combined;
    }
  }
}

/** Rule JSON -> builder tree (the root is always a group, so it can be edited). */
export function fromRule(rule: Rule | null | undefined): GroupNode {
  if (!rule) return emptyGroup();
  const node = nodeFromRule(rule);
  return node.kind === "group" ? node : { ...emptyGroup(), children: [node] };
}

function nodeFromRule(rule: Rule): BuilderNode {
  const r = rule as Record<string, unknown>;
  if (Array.isArray(r.all) || Array.isArray(r.any)) {
    const mode = Array.isArray(r.all) ? "all" : "any";
    const children = (r[mode] as Rule[]).map(nodeFromRule);
    return { kind: "group", id: newId(), mode, negate: false, children };
  }
  if (r.not && typeof r.not === "object") {
    const inner = nodeFromRule(r.not as Rule);
    if (inner.kind === "group" && !inner.negate) return { ...inner, negate: true };
    return { kind: "group", id: newId(), mode: "all", negate: true, children: [inner] };
  }
  if ((r.op === "has_tag" || r.op === "not_has_tag") && typeof r.value === "string" && !("field" in r)) {
    return { kind: "tag", id: newId(), op: r.op, value: r.value };
  }
  if (typeof r.field === "string" && typeof r.op === "string" && !("related" in r)) {
    return { kind: "field", id: newId(), field: r.field, op: r.op, value: r.value };
  }
  return { kind: "raw", id: newId(), rule };
}

/** Replace the node with this id anywhere in the tree (immutable update). */
export function updateNode(root: GroupNode, id: string, change: (node: BuilderNode) => BuilderNode | null): GroupNode {
  const walk = (node: BuilderNode): BuilderNode | null => {
    if (node.id === id) return change(node);
    if (node.kind !== "group") return node;
    const children = node.children.map(walk).filter((c): c is BuilderNode => c !== null);
    return { ...node, children };
  };
  const result = walk(root);
  return result && result.kind === "group" ? result : emptyGroup();
}
