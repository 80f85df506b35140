// An assignment definition (kind `assignment`) as the editor holds it: each entry's rules as rule
// builder trees, turned back into the definition's JSON on save. Only the keys a strategy reads are
// written, so switching strategy never leaves stale keys for the server to refuse.
import type { FieldInfo, Rule } from "../api/types";
import { type GroupNode, fromRule, toRule } from "./rules";

export const STRATEGIES = ["round_robin", "weighted", "least_loaded", "territory", "by_field"] as const;
export type Strategy = (typeof STRATEGIES)[number];
export type Fallback = { users: string[] } | { team: string } | { pool: string } | null;

export interface TerritoryState { name: string; when: GroupNode; team: string; users: string[] }

export interface EntryState {
  name: string;
  strategy: Strategy;
  everyRecord: boolean;
  when: GroupNode;
  users: string[];
  team: string;
  weights: Record<string, number>;
  territories: TerritoryState[];
  field: string;
  perDay: number | null;
  perMonth: number | null;
  workingDays: number[];
  outOfOffice: unknown[];
  fallback: Fallback;
}

type Json = Record<string, unknown>;

const words = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

export function entryFromJson(e: Json): EntryState {
  const capacity = (e.capacity ?? {}) as Json;
  const availability = (e.availability ?? {}) as Json;
  const fb = (e.fallback ?? null) as Json | null;
  return {
    name: String(e.name ?? ""),
    strategy: (STRATEGIES as readonly string[]).includes(String(e.strategy)) ? (e.strategy as Strategy) : "round_robin",
    everyRecord: !e.when,
    when: fromRule(e.when as Rule | undefined),
    users: words(e.users),
    team: String(e.team ?? ""),
    weights: { ...((e.weights ?? {}) as Record<string, number>) },
    territories: ((e.territories ?? []) as Json[]).map((t) => ({
      name: String(t.name ?? ""), when: fromRule(t.when as Rule | undefined), team: String(t.team ?? ""), users: words(t.users),
    })),
    field: String(e.field ?? ""),
    perDay: typeof capacity.per_day === "number" ? capacity.per_day : null,
    perMonth: typeof capacity.per_month === "number" ? capacity.per_month : null,
    workingDays: (availability.working_days as number[] | undefined) ?? [],
    outOfOffice: (availability.out_of_office as unknown[] | undefined) ?? [],
    fallback: fb && Array.isArray(fb.users) ? { users: words(fb.users) } : fb && typeof fb.team === "string" ? { team: fb.team }
      : fb && typeof fb.pool === "string" ? { pool: fb.pool } : null,
  };
}

export function newEntry(): EntryState {
  return entryFromJson({ strategy: "round_robin" });
}

/** The builder's rule without a one-condition `all` wrapper, so an untouched rule saves as it was written. */
export function ruleOf(node: GroupNode, fields: FieldInfo[]): Rule | null {
  const rule = toRule(node, fields);
  const all = (rule as { all?: Rule[] } | null)?.all;
  return all && all.length === 1 && Object.keys(rule as object).length === 1 ? all[0] : rule;
}

/** Who an entry hands records to: its users, or else its team. */
function people(users: string[], team: string): Json {
  if (users.length) return { users };
  return team.trim() ? { team: team.trim() } : {};
}

export function entryToJson(e: EntryState, fields: FieldInfo[]): Json {
  const out: Json = {};
  if (e.name.trim()) out.name = e.name.trim();
  const when = e.everyRecord ? null : ruleOf(e.when, fields);
  if (when) out.when = when;
  out.strategy = e.strategy;
  if (e.strategy === "round_robin" || e.strategy === "least_loaded") Object.assign(out, people(e.users, e.team));
  if (e.strategy === "weighted") out.weights = { ...e.weights };
  if (e.strategy === "territory") {
    out.territories = e.territories.map((t) => ({ name: t.name.trim(), when: ruleOf(t.when, fields) ?? { all: [] },
      ...people(t.users, t.team) }));
  }
  if (e.strategy === "by_field") out.field = e.field;
  const capacity: Json = {};
  if (e.perDay) capacity.per_day = e.perDay;
  if (e.perMonth) capacity.per_month = e.perMonth;
  if (Object.keys(capacity).length) out.capacity = capacity;
  const availability: Json = {};
  if (e.workingDays.length) availability.working_days = [...e.workingDays].sort();
  if (e.outOfOffice.length) availability.out_of_office = e.outOfOffice;
  if (Object.keys(availability).length) out.availability = availability;
  if (e.fallback) out.fallback = e.fallback;
  return out;
}

/** The whole definition: the loaded document with its entries replaced (other keys kept as they were). */
export function docWithEntries(doc: Json, entries: EntryState[], fields: FieldInfo[], onCreate: boolean): Json {
  return { ...doc, on_create: onCreate, entries: entries.map((e) => entryToJson(e, fields)) };
}

export function move<T>(items: T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (to < 0 || to >= items.length) return items;
  const next = [...items];
  [next[index], next[to]] = [next[to], next[index]];
  return next;
}
