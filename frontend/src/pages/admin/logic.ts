// Pure helpers of the admin pages (import mapping, progress, duplicate review, role grants), tested alone.
import type { Grant, ImportJob, ImportPreview } from "../../api/admin";
import type { RecordData } from "../../api/types";

/** A column's decision in the mapping table: a field name, IGNORE, or KEEP (the "more information" field). */
export const IGNORE = "";
export const KEEP = "__keep__";

/** The starting decisions: the server's suggestions; other columns kept when the object has a keep field. */
export function initialDecisions(preview: ImportPreview): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of preview.headers) {
    const suggested = preview.suggested_mapping[h];
    out[h] = suggested ? suggested : preview.keep_field ? KEEP : IGNORE;
  }
  return out;
}

/** The `mapping` the imports API takes: mapped headers to fields, ignored ones to null, kept ones left out. */
export function mappingOf(decisions: Record<string, string>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [header, choice] of Object.entries(decisions)) {
    if (choice === KEEP) continue;
    out[header] = choice === IGNORE ? null : choice;
  }
  return out;
}

/** Fields mapped from more than one column (the import would take only one). */
export function doubleMapped(decisions: Record<string, string>): string[] {
  const seen = new Map<string, number>();
  for (const choice of Object.values(decisions)) {
    if (choice && choice !== KEEP) seen.set(choice, (seen.get(choice) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([f]) => f).sort();
}

/** Required fields no column fills. */
export function missingRequired(preview: ImportPreview, decisions: Record<string, string>): string[] {
  const mapped = new Set(Object.values(decisions));
  return preview.fields.filter((f) => f.required && !mapped.has(f.name)).map((f) => f.name);
}

/** The first rows as a grid of the headers' cells, whatever shape (lists or objects) the server sent. */
export function rowCells(preview: ImportPreview): unknown[][] {
  return (preview.rows as unknown[]).map((row) => Array.isArray(row)
    ? row : preview.headers.map((h) => (row as Record<string, unknown>)[h]));
}

export function isFinished(job: ImportJob): boolean {
  return ["done", "failed", "refused", "completed", "finished", "cancelled"].includes(job.status);
}

/** Seconds left at the job's current rate, or null when unknown. */
export function secondsLeft(job: ImportJob): number | null {
  if (!job.rate || job.rate <= 0 || isFinished(job)) return null;
  return Math.max(0, Math.ceil((job.total_rows - job.rows_done) / job.rate));
}

const EMPTY = (v: unknown) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);

function same(a: unknown, b: unknown): boolean {
  if (EMPTY(a) && EMPTY(b)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields (of `names`) on which the two records differ. */
export function differingFields(left: RecordData, right: RecordData, names: string[]): string[] {
  return names.filter((n) => !same(left[n], right[n]));
}

/** Per differing field, whose value to keep: the survivor's unless it is empty. */
export function defaultKeep(left: RecordData, right: RecordData, survivorId: number, names: string[]): Record<string, number> {
  const survivor = left.id === survivorId ? left : right;
  const other = survivor === left ? right : left;
  const out: Record<string, number> = {};
  for (const n of differingFields(left, right, names)) out[n] = EMPTY(survivor[n]) ? other.id : survivor.id;
  return out;
}

export const VERBS = ["read", "create", "update", "delete"] as const;

function blank(object: string): Grant {
  return { object, verbs: [], scope: "own", hidden_fields: [], readonly_fields: [] };
}

/** Grants with `verb` switched on `object` (a grant without verbs is dropped; read comes with any verb). */
export function toggleVerb(grants: Grant[], object: string, verb: string): Grant[] {
  const current = grants.find((g) => g.object === object) ?? blank(object);
  const on = current.verbs.includes(verb);
  let verbs = on ? current.verbs.filter((v) => v !== verb) : [...current.verbs, verb];
  if (!on && verb !== "read" && !verbs.includes("read")) verbs = ["read", ...verbs];
  if (on && verb === "read") verbs = [];
  verbs = VERBS.filter((v) => verbs.includes(v));
  const rest = grants.filter((g) => g.object !== object);
  return verbs.length ? [...rest, { ...current, verbs }] : rest;
}

/** A field's rule on `object`: visible (editable), read-only or hidden. */
export type FieldRule = "edit" | "readonly" | "hidden";

export function fieldRule(grant: Grant | undefined, field: string): FieldRule {
  if (grant?.hidden_fields.includes(field)) return "hidden";
  if (grant?.readonly_fields.includes(field)) return "readonly";
  return "edit";
}

export function setFieldRule(grants: Grant[], object: string, field: string, rule: FieldRule): Grant[] {
  return grants.map((g) => g.object !== object ? g : {
    ...g,
    hidden_fields: rule === "hidden" ? [...new Set([...g.hidden_fields, field])] : g.hidden_fields.filter((f) => f !== field),
    readonly_fields: rule === "readonly" ? [...new Set([...g.readonly_fields, field])] : g.readonly_fields.filter((f) => f !== field),
  });
}

export function setScope(grants: Grant[], object: string, scope: string): Grant[] {
  return grants.map((g) => (g.object === object ? { ...g, scope } : g));
}
