// Names, not ids: the relation values (and owners) of the records on a page, looked up in one
// batched POST /titles, then shown as the target's title.
import { useEffect, useState } from "react";
import { fetchRegionLabels, fetchTitles, type Title } from "../api/recordTools";
import type { FieldInfo, RecordData } from "../api/types";

export type Titles = Record<string, Record<string, Title>>;

/** {target: [ids]} of the relation fields (and owner_id -> user) of `records`, sorted, unique. */
export function wantedTitles(fields: FieldInfo[], records: RecordData[], owner = true): Record<string, number[]> {
  const out: Record<string, Set<number>> = {};
  const add = (target: string, v: unknown) => {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n <= 0) return;
    (out[target] ??= new Set()).add(n);
  };
  for (const r of records) {
    for (const f of fields) if (f.type === "relation" && f.target) add(f.target, r[f.name]);
    if (owner) add("user", r.owner_id);
  }
  return Object.fromEntries(Object.entries(out).map(([k, s]) => [k, [...s].sort((a, b) => a - b)]));
}

export function titleIn(titles: Titles, target: string, id: unknown): string | undefined {
  return titles[target]?.[String(id)]?.title;
}

/** The titles for `records` (one request per change of the records); {} until answered. */
export function useTitles(fields: FieldInfo[] | undefined, records: RecordData[] | undefined, owner = true): Titles {
  return useTitleMap(fields && records ? wantedTitles(fields, records, owner) : {});
}

/** Titles of {target: [ids]} in one POST /titles, asked again only when the ids change. */
export function useTitleMap(wanted: Record<string, number[]>): Titles {
  const [titles, setTitles] = useState<Titles>({});
  const key = JSON.stringify(wanted);
  useEffect(() => {
    if (key === "{}") return;
    let live = true;
    fetchTitles(JSON.parse(key) as Record<string, number[]>)
      .then((t) => { if (live) setTitles(t); }, () => { if (live) setTitles({}); });
    return () => { live = false; };
  }, [key]);
  return titles;
}

/** Two title maps as one (a page that looks up its record and its timeline separately). */
export function mergeTitles(a: Titles, b: Titles): Titles {
  const out: Titles = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = { ...(out[k] ?? {}), ...v };
  return out;
}

/** {target: [ids]} maps as one (sorted, unique), so a page asks once. */
export function mergeWanted(...maps: Record<string, number[]>[]): Record<string, number[]> {
  const out: Record<string, Set<number>> = {};
  for (const m of maps) for (const [k, ids] of Object.entries(m)) for (const id of ids) (out[k] ??= new Set()).add(id);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b))
    .map(([k, s]) => [k, [...s].sort((a, b) => a - b)]));
}

/** The region values (GB/T 2260 codes) of the region fields of `records`, sorted, unique. */
export function wantedRegions(fields: FieldInfo[], records: RecordData[]): string[] {
  const out = new Set<string>();
  for (const r of records) for (const f of fields) {
    const v = r[f.name];
    if (f.type === "region" && typeof v === "string" && v) out.add(v);
  }
  return [...out].sort();
}

/** Names of the region values on a page (one GET /region-labels per change of the values); {} until answered. */
export function useRegionLabels(fields: FieldInfo[] | undefined, records: RecordData[] | undefined): Record<string, string> {
  const [labels, setLabels] = useState<Record<string, string>>({});
  const key = fields && records ? wantedRegions(fields, records).join(",") : "";
  useEffect(() => {
    if (!key) return;
    let live = true;
    fetchRegionLabels(key.split(",")).then((l) => { if (live) setLabels(l); }, () => { if (live) setLabels({}); });
    return () => { live = false; };
  }, [key]);
  return labels;
}
