// The record page's timeline: record events (who changed what) and the activities logged on the
// record (calls, visits, notes, tasks), merged newest first and filtered by kind.
import type { RecordData, TimelineEvent } from "../api/types";

export type TimelineKind = "all" | "activities" | "changes";

export type TimelineEntry =
  | { kind: "event"; at: string; key: string; event: TimelineEvent }
  | { kind: "activity"; at: string; key: string; activity: RecordData };

function eventTime(e: TimelineEvent): string {
  return String(e.at ?? e.created_at ?? "");
}

/** When an activity belongs on the timeline: when it happened (or is due), else when it was logged. */
export function activityTime(a: RecordData): string {
  return String(a.due_at ?? a.created_at ?? "");
}

export function mergeTimeline(events: TimelineEvent[], activities: RecordData[], kind: TimelineKind = "all"): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  if (kind !== "activities") {
    events.forEach((e, i) => out.push({ kind: "event", at: eventTime(e), key: `e${e.id ?? i}`, event: e }));
  }
  if (kind !== "changes") {
    for (const a of activities) out.push({ kind: "activity", at: activityTime(a), key: `a${a.id}`, activity: a });
  }
  const ms = (s: string) => { const n = Date.parse(s); return Number.isNaN(n) ? 0 : n; };
  return out.sort((x, y) => ms(y.at) - ms(x.at));
}

/** The changed field names of an event, system bookkeeping left out. */
export function changedNames(e: TimelineEvent): string[] {
  const before = e.changes?.before ?? {};
  const after = e.changes?.after ?? {};
  const skip = new Set(["version", "updated_at", "created_at", "created_by", "id"]);
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((n) => !skip.has(n));
}

/** Every id the timeline shows as a name: relation values and owners in changes, activity owners,
 * actors, and the records a conversion links ({object, id}) -> one POST /titles. */
export function timelineTitleIds(events: TimelineEvent[], activities: RecordData[], relationTargets: Map<string, string>): Record<string, number[]> {
  const out: Record<string, Set<number>> = {};
  const add = (target: string, v: unknown) => {
    if (typeof v === "number" && Number.isInteger(v) && v > 0) (out[target] ??= new Set()).add(v);
  };
  for (const e of events) {
    add("user", e.actor_id);
    for (const side of [e.changes?.before ?? {}, e.changes?.after ?? {}]) {
      for (const [name, v] of Object.entries(side)) {
        if (name === "owner_id") add("user", v);
        else if (relationTargets.has(name)) add(relationTargets.get(name)!, v);
        else if (v && typeof v === "object" && "object" in v && "id" in v) {
          const ref = v as { object: unknown; id: unknown };
          if (typeof ref.object === "string") add(ref.object, ref.id);
        }
      }
    }
  }
  for (const a of activities) add("user", a.owner_id);
  return Object.fromEntries(Object.entries(out).map(([k, s]) => [k, [...s].sort((a, b) => a - b)]));
}

/** One paged source of the timeline: what is loaded, and the cursor of the next page (null: all loaded). */
export interface Stream<T> {
  items: T[];
  cursor: string | null;
}

/** The merged entries to show while some pages are still unloaded: an entry older than the oldest
 * loaded one of a source with more pages is held back (the unloaded page may hold newer ones), so
 * "show more" only ever adds below. `more`: whether any shown source has another page. */
export function pagedTimeline(events: Stream<TimelineEvent>, activities: Stream<RecordData>,
  kind: TimelineKind = "all"): { entries: TimelineEntry[]; more: boolean } {
  const entries = mergeTimeline(events.items, activities.items, kind);
  const ms = (s: string) => { const n = Date.parse(s); return Number.isNaN(n) ? 0 : n; };
  const open: number[] = [];
  if (kind !== "activities" && events.cursor && events.items.length) {
    open.push(Math.min(...events.items.map((e) => ms(eventTime(e)))));
  }
  if (kind !== "changes" && activities.cursor && activities.items.length) {
    open.push(Math.min(...activities.items.map((a) => ms(activityTime(a)))));
  }
  const more = (kind !== "activities" && !!events.cursor) || (kind !== "changes" && !!activities.cursor);
  if (!open.length) return { entries, more };
  const boundary = Math.max(...open);
  return { entries: entries.filter((e) => ms(e.at) >= boundary), more };
}
