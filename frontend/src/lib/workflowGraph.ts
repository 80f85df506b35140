// A workflow definition <-> the editor's graph. The definition stays the one source of truth: every
// edit (connect, re-point, add, duplicate, delete, move) is a pure function definition -> definition,
// and the canvas is derived from it. Steps are a list; a step without `next` goes on to the following
// step (branches, switches, splits and `end` have explicit exits only), as flows/model.py says.

export type StepDoc = Record<string, unknown> & { id: string; type?: string; kind?: string };
export interface WorkflowDoc extends Record<string, unknown> {
  name: string;
  steps: StepDoc[];
}

/** One outgoing link of a step: the handle it leaves by and the step id it points to (null: unset). */
export interface Exit {
  handle: string;
  target: string | null;
  implicit?: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  implicit: boolean;
}

/** A problem placed on a node (from the server's validate/publish/draft answers or the local check). */
export interface NodeProblem {
  node: string;
  code: string;
  message: string;
}

const EXPLICIT_ONLY = new Set(["branch", "if", "switch", "split", "end", "foreach"]);
const COMMON_KEYS = ["id", "type", "kind", "ui", "label", "next"];

/** The keys of a step that are links or identity, not arguments ("body" is a message's text except on foreach). */
export function structuralKeys(kind: string): Set<string> {
  const extra = kind === "branch" || kind === "if" ? ["then", "else"] : kind === "switch" ? ["default"]
    : kind === "foreach" ? ["body"] : [];
  return new Set([...COMMON_KEYS, ...extra]);
}

export function kindOf(step: StepDoc): string {
  return String(step.kind ?? step.type ?? "action");
}

/** Whether a step without `next` continues with the following step in the list. */
export function fallsThrough(step: StepDoc): boolean {
  return !EXPLICIT_ONLY.has(kindOf(step));
}

function text(v: unknown): string | null {
  return typeof v === "string" && v ? v : null;
}

/** The exits of a step in the order the editor shows them (implicit fall-through marked). */
export function exitsOf(doc: WorkflowDoc, index: number): Exit[] {
  const step = doc.steps[index];
  const kind = kindOf(step);
  if (kind === "end") return [];
  if (kind === "branch" || kind === "if") {
    return [{ handle: "then", target: text(step.then) }, { handle: "else", target: text(step.else) }];
  }
  if (kind === "switch") {
    const cases = Array.isArray(step.cases) ? (step.cases as Record<string, unknown>[]) : [];
    return [...cases.map((c, i) => ({ handle: `case:${i}`, target: text(c.next) })),
      { handle: "default", target: text(step.default) }];
  }
  if (kind === "split") {
    const arms = Array.isArray(step.arms) ? (step.arms as Record<string, unknown>[]) : [];
    return arms.map((a, i) => ({ handle: `arm:${i}`, target: text(a.next) }));
  }
  if (kind === "foreach") {
    return [{ handle: "body", target: text(step.body) }, { handle: "next", target: text(step.next) }];
  }
  const explicit = text(step.next);
  if (explicit) return [{ handle: "next", target: explicit }];
  const following = doc.steps[index + 1];
  return [{ handle: "next", target: following ? following.id : null, implicit: !!following }];
}

export function edgesOf(doc: WorkflowDoc): GraphEdge[] {
  const ids = new Set(doc.steps.map((s) => s.id));
  const out: GraphEdge[] = [];
  doc.steps.forEach((step, i) => {
    for (const exit of exitsOf(doc, i)) {
      if (exit.target && ids.has(exit.target)) {
        out.push({ id: `${step.id}:${exit.handle}`, source: step.id, sourceHandle: exit.handle, target: exit.target,
          implicit: !!exit.implicit });
      }
    }
  });
  return out;
}

/** The arguments of a step that its form edits (everything but id, type and links). */
export function argsOf(step: StepDoc): Record<string, unknown> {
  const kind = kindOf(step);
  const structural = structuralKeys(kind);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(step)) {
    if (structural.has(k)) continue;
    if ((kind === "switch" && k === "cases") || (kind === "split" && k === "arms")) {
      out[k] = (v as Record<string, unknown>[]).map(({ next: _n, ...rest }) => rest);
      continue;
    }
    out[k] = v;
  }
  return out;
}

function replaceStep(doc: WorkflowDoc, id: string, change: (s: StepDoc, i: number) => StepDoc): WorkflowDoc {
  return { ...doc, steps: doc.steps.map((s, i) => (s.id === id ? change(s, i) : s)) };
}

function withoutKey(step: StepDoc, key: string): StepDoc {
  const copy = { ...step };
  delete copy[key];
  return copy;
}

/** Point one exit of `source` at `target` (null: unlink). Nothing else changes: no node is deleted.
 * The trigger node's one exit is the workflow's `start`. */
export function setExit(doc: WorkflowDoc, source: string, handle: string, target: string | null): WorkflowDoc {
  if (source === TRIGGER_NODE) return setStart(doc, target);
  return replaceStep(doc, source, (step) => {
    const listLink = /^(case|arm):(\d+)$/.exec(handle);
    if (listLink) {
      const key = listLink[1] === "case" ? "cases" : "arms";
      const items = [...((step[key] as Record<string, unknown>[]) ?? [])];
      const n = Number(listLink[2]);
      if (!items[n]) return step;
      items[n] = target ? { ...items[n], next: target } : withoutKey(items[n] as StepDoc, "next");
      return { ...step, [key]: items };
    }
    return target ? { ...step, [handle]: target } : withoutKey(step, handle);
  });
}

/** Re-point an existing edge to a new target (or a new source exit), keeping every node. */
export function reconnect(doc: WorkflowDoc, edge: { source: string; sourceHandle: string },
  to: { source: string; sourceHandle: string; target: string }): WorkflowDoc {
  let next = doc;
  if (edge.source !== to.source || edge.sourceHandle !== to.sourceHandle) {
    next = setExit(next, edge.source, edge.sourceHandle, null);
  }
  return setExit(next, to.source, to.sourceHandle, to.target);
}

export function uniqueId(doc: WorkflowDoc, base: string): string {
  const taken = new Set(doc.steps.map((s) => s.id));
  const clean = base.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+|_+$/g, "") || "step";
  if (!taken.has(clean)) return clean;
  for (let n = 2; ; n++) if (!taken.has(`${clean}_${n}`)) return `${clean}_${n}`;
}

/** Before appending or removing steps, make every implicit fall-through explicit so no link moves. */
export function pinLinks(doc: WorkflowDoc): WorkflowDoc {
  return {
    ...doc,
    steps: doc.steps.map((s, i) => {
      if (!fallsThrough(s) || text(s.next)) return s;
      const following = doc.steps[i + 1];
      return following ? { ...s, next: following.id } : s;
    }),
  };
}

export function addStep(doc: WorkflowDoc, type: string, position: { x: number; y: number },
  args: Record<string, unknown> = {}): { doc: WorkflowDoc; id: string } {
  const pinned = pinLinks(doc);
  const id = uniqueId(pinned, type);
  const step: StepDoc = { id, type, ...args, ui: { x: Math.round(position.x), y: Math.round(position.y) } };
  return { doc: { ...pinned, steps: [...pinned.steps, step] }, id };
}

/** Remove steps and every link to them (links elsewhere are kept). */
export function removeSteps(doc: WorkflowDoc, ids: string[]): WorkflowDoc {
  const gone = new Set(ids.filter((id) => id !== TRIGGER_NODE)); // the trigger is not deletable
  if (!gone.size) return doc;
  let next = pinLinks(doc);
  next = { ...next, steps: next.steps.filter((s) => !gone.has(s.id)) };
  for (const [i, step] of next.steps.entries()) {
    for (const exit of exitsOf(next, i)) {
      if (exit.target && gone.has(exit.target)) next = setExit(next, step.id, exit.handle, null);
    }
  }
  if (typeof next.start === "string" && gone.has(next.start)) {
    next = { ...next };
    delete next.start;
  }
  return next;
}

/** Copy steps (a node or a subgraph): links inside the selection follow the copies, links out stay. */
export function duplicate(doc: WorkflowDoc, ids: string[], offset = 60): { doc: WorkflowDoc; ids: string[] } {
  let next = pinLinks(doc);
  const chosen = next.steps.filter((s) => ids.includes(s.id));
  const map = new Map<string, string>();
  for (const s of chosen) {
    const copyId = uniqueId({ ...next, steps: [...next.steps, ...[...map.values()].map((v) => ({ id: v }))] }, `${s.id}_copy`);
    map.set(s.id, copyId);
  }
  const copies: StepDoc[] = chosen.map((s) => {
    const ui = (s.ui as { x?: number; y?: number } | undefined) ?? {};
    return { ...structuredClone(s), id: map.get(s.id)!, ui: { x: (ui.x ?? 0) + offset, y: (ui.y ?? 0) + offset } };
  });
  next = { ...next, steps: [...next.steps, ...copies] };
  for (const copy of copies) {
    const index = next.steps.findIndex((s) => s.id === copy.id);
    for (const exit of exitsOf(next, index)) {
      if (exit.target && map.has(exit.target)) next = setExit(next, copy.id, exit.handle, map.get(exit.target)!);
    }
  }
  return { doc: next, ids: copies.map((c) => c.id) };
}

export function setArgs(doc: WorkflowDoc, id: string, args: Record<string, unknown>): WorkflowDoc {
  return replaceStep(doc, id, (step) => {
    const kind = kindOf(step);
    const structural = structuralKeys(kind);
    const kept: StepDoc = { id: step.id };
    for (const [k, v] of Object.entries(step)) if (structural.has(k)) kept[k] = v;
    const merged: StepDoc = { ...kept, ...args };
    for (const key of kind === "switch" ? ["cases"] : kind === "split" ? ["arms"] : []) {
      const old = (step[key] as Record<string, unknown>[]) ?? [];
      merged[key] = ((args[key] as Record<string, unknown>[]) ?? []).map((item, i) =>
        old[i]?.next ? { ...item, next: old[i].next } : item);
    }
    return merged;
  });
}

/** A form's output without the empty parts RJSF fills in (`{}` for an untouched nested object, "",
 * null or undefined for an untouched field): `until: {}` beside `duration` would make a wait invalid. */
export function pruneEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneEmpty);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = pruneEmpty(v);
      if (kept === undefined || kept === null || kept === "" || (kept && typeof kept === "object" && !Array.isArray(kept)
        && Object.keys(kept).length === 0)) continue;
      out[k] = kept;
    }
    return out;
  }
  return value;
}

export function moveSteps(doc: WorkflowDoc, positions: Record<string, { x: number; y: number }>): WorkflowDoc {
  return {
    ...doc,
    steps: doc.steps.map((s) => {
      const p = positions[s.id];
      return p ? { ...s, ui: { x: Math.round(p.x), y: Math.round(p.y) } } : s;
    }),
  };
}

/** The canvas id of the trigger node: not a step id (those match ^[a-z]), so it never collides. */
export const TRIGGER_NODE = "__trigger";
export const TRIGGER_HANDLE = "start";

export type TriggerDoc = Record<string, unknown> & { type?: string };

/** The step a run begins with: `start`, else the first step. */
export function startOf(doc: WorkflowDoc): string | null {
  return text(doc.start) ?? doc.steps[0]?.id ?? null;
}

/** The trigger's one edge, to the start step (implicit when `start` is not written). */
export function triggerEdge(doc: WorkflowDoc): GraphEdge | null {
  const target = startOf(doc);
  if (!target || !doc.steps.some((s) => s.id === target)) return null;
  return { id: `${TRIGGER_NODE}:${TRIGGER_HANDLE}`, source: TRIGGER_NODE, sourceHandle: TRIGGER_HANDLE, target,
    implicit: !text(doc.start) };
}

/** Re-point the trigger: `start` names the step (the first step needs no `start`; null: the first step). */
export function setStart(doc: WorkflowDoc, target: string | null): WorkflowDoc {
  const next = { ...doc };
  if (target && target !== doc.steps[0]?.id) next.start = target;
  else delete next.start;
  return next;
}

/** Where the trigger node is drawn: one row above the start step, so it is always the first node. */
export function triggerPosition(doc: WorkflowDoc, placed: Record<string, { x: number; y: number }> = {}): { x: number; y: number } {
  const start = startOf(doc);
  const step = doc.steps.find((s) => s.id === start);
  const at = (step && (positionOf(step) ?? placed[step.id])) ?? { x: 0, y: 0 };
  return { x: at.x, y: at.y - 130 };
}

type Json = Record<string, unknown>;

function requiredOf(schema: unknown): string[] {
  const r = (schema as Json | undefined)?.required;
  return Array.isArray(r) ? r.map(String) : [];
}

/** Whether an `if` of the trigger schema (`{properties: {type: {const | enum}}}`) holds for a type. */
function typeMatches(cond: unknown, type: string | undefined): boolean {
  const t = (((cond as Json | undefined)?.properties as Json | undefined)?.type ?? {}) as Json;
  if ("const" in t) return t.const === type;
  return Array.isArray(t.enum) && t.enum.includes(type);
}

/**
 * The trigger's fields for a type, read from its JSON schema: the properties minus those its
 * if/then/else clauses forbid for that type (`not: {required}` / `not: {anyOf: [{required}]}`), and
 * the ones they require. So cron shows on schedules only, tag on tag triggers, fields on updates.
 */
export function triggerKeys(schema: Json | undefined, type: string | undefined): { keys: string[]; required: string[] } {
  const props = Object.keys((schema?.properties as Json | undefined) ?? {});
  const forbidden = new Set<string>();
  const required = new Set(requiredOf(schema));
  for (const clause of (Array.isArray(schema?.allOf) ? schema.allOf : []) as Json[]) {
    const branch = (typeMatches(clause.if, type) ? clause.then : clause.else) as Json | undefined;
    if (!branch) continue;
    for (const k of requiredOf(branch)) required.add(k);
    const not = branch.not as Json | undefined;
    if (!not) continue;
    for (const k of [...requiredOf(not), ...((Array.isArray(not.anyOf) ? not.anyOf : []) as unknown[]).flatMap(requiredOf)]) {
      forbidden.add(k);
    }
  }
  const keys = props.filter((k) => !forbidden.has(k));
  return { keys, required: [...required].filter((k) => keys.includes(k)) };
}

/** Replace the trigger; with `keys` (those its type takes), fields of another type are dropped. */
export function setTrigger(doc: WorkflowDoc, trigger: TriggerDoc, keys?: string[]): WorkflowDoc {
  const kept = keys ? Object.fromEntries(Object.entries(trigger).filter(([k]) => k === "type" || keys.includes(k))) : trigger;
  return { ...doc, trigger: kept };
}

/** Set (or with undefined/null/empty, remove) top-level settings edited beside the trigger: enrollment, goal. */
export function setSetting(doc: WorkflowDoc, key: "enrollment" | "goal", value: unknown): WorkflowDoc {
  const next = { ...doc };
  const empty = value === undefined || value === null || (typeof value === "object" && !Array.isArray(value)
    && Object.keys(value as object).length === 0);
  if (empty) delete next[key];
  else next[key] = value;
  return next;
}

export function positionOf(step: StepDoc): { x: number; y: number } | null {
  const ui = step.ui as { x?: unknown; y?: unknown } | undefined;
  return ui && typeof ui.x === "number" && typeof ui.y === "number" ? { x: ui.x, y: ui.y } : null;
}

/** What the editor can tell before asking the server: dangling links, unreachable steps, missing branches. */
export function localProblems(doc: WorkflowDoc): NodeProblem[] {
  const out: NodeProblem[] = [];
  const ids = new Set(doc.steps.map((s) => s.id));
  const seen = new Set<string>();
  for (const s of doc.steps) {
    if (seen.has(s.id)) out.push({ node: s.id, code: "duplicate_id", message: `two steps are named '${s.id}'` });
    seen.add(s.id);
  }
  doc.steps.forEach((step, i) => {
    for (const exit of exitsOf(doc, i)) {
      if (exit.target && !ids.has(exit.target)) {
        out.push({ node: step.id, code: "unknown_step", message: `${exit.handle} points to '${exit.target}', which does not exist` });
      } else if (!exit.target && exit.handle !== "next") {
        out.push({ node: step.id, code: "missing_branch", message: `'${exit.handle}' leads nowhere` });
      }
    }
  });
  const start = typeof doc.start === "string" ? doc.start : doc.steps[0]?.id;
  if (start) {
    const reached = new Set<string>([start]);
    const queue = [start];
    const index = new Map(doc.steps.map((s, i) => [s.id, i]));
    while (queue.length) {
      const i = index.get(queue.shift()!);
      if (i === undefined) continue;
      for (const exit of exitsOf(doc, i)) {
        if (exit.target && !reached.has(exit.target)) {
          reached.add(exit.target);
          queue.push(exit.target);
        }
      }
    }
    for (const s of doc.steps) {
      if (!reached.has(s.id)) out.push({ node: s.id, code: "unreachable", message: "no path from the start reaches this step" });
    }
  }
  return out;
}

/**
 * Problems from the server placed on nodes: `{node}` items, `{field: "steps.<id>"}` (publish 422) and
 * JSON pointers `/steps/<index>/...` (definition checks); `/trigger...` (and `/enrollment`, `/goal`,
 * edited in the trigger's inspector) and node `trigger` go to the trigger node. Others go to the
 * workflow itself (node "").
 */
export function placeProblems(doc: WorkflowDoc,
  items: { node?: string; field?: string; pointer?: string; code: string; message: string }[]): NodeProblem[] {
  return items.map((p) => {
    const field = p.field ?? p.pointer ?? "";
    if (/^\/?(trigger|enrollment|goal)([/.]|$)/.test(field)) {
      return { node: TRIGGER_NODE, code: p.code, message: `${field}: ${p.message}` };
    }
    if ((p.node === "trigger" || p.node === "goal") && !doc.steps.some((s) => s.id === p.node)) {
      return { node: TRIGGER_NODE, code: p.code, message: p.message };
    }
    if (p.node) return { node: p.node, code: p.code, message: p.message };
    const byId = /^steps\.([^.]+)/.exec(field);
    if (byId && doc.steps.some((s) => s.id === byId[1])) return { node: byId[1], code: p.code, message: p.message };
    const byIndex = /^\/?steps[/.](\d+)/.exec(field);
    if (byIndex && doc.steps[Number(byIndex[1])]) {
      return { node: doc.steps[Number(byIndex[1])].id, code: p.code, message: p.message };
    }
    return { node: "", code: p.code, message: field ? `${field}: ${p.message}` : p.message };
  });
}

export function problemsByNode(problems: NodeProblem[]): Map<string, NodeProblem[]> {
  const out = new Map<string, NodeProblem[]>();
  for (const p of problems) out.set(p.node, [...(out.get(p.node) ?? []), p]);
  return out;
}

/** Undo/redo over whole definitions (they are small); `limit` keeps the oldest states from piling up. */
export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  constructor(private readonly limit = 100) {}

  push(previous: T): void {
    this.past.push(previous);
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
  }

  undo(current: T): T | null {
    const previous = this.past.pop();
    if (previous === undefined) return null;
    this.future.push(current);
    return previous;
  }

  redo(current: T): T | null {
    const next = this.future.pop();
    if (next === undefined) return null;
    this.past.push(current);
    return next;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }
}
