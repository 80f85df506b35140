// The record pages' helpers on the server (/api/v1): titles of relation values in one batched
// request, the search-as-you-type picker, tag suggestions, the trash, restore and lead conversion.
import { request } from "./client";
import type { Label, Page, RecordData } from "./types";

export interface Title {
  title: string;
  subtitle: string | null;
}

export interface LookupItem extends Title {
  id: number;
}

export interface TagSuggestion {
  name: string;
  label: Label;
  group?: string | null;
  automatic?: boolean;
}

export interface ConversionTarget {
  key: string;
  object: string;
  label: Label;
  optional: boolean;
  default: boolean;
  fields: Record<string, string>;
}

export interface ConversionInfo {
  name: string;
  label: Label;
  description?: Label | null;
  targets: ConversionTarget[];
}

const enc = encodeURIComponent;

/** {object: [ids]} -> {object: {id: title}} (ids the caller may not read are absent). */
export async function fetchTitles(wanted: Record<string, number[]>): Promise<Record<string, Record<string, Title>>> {
  if (!Object.keys(wanted).length) return {};
  return request("POST", "/titles", { body: wanted });
}

/** Names of region values (GB/T 2260 codes) in the user's language; free text comes back as it is. */
export async function fetchRegionLabels(codes: string[]): Promise<Record<string, string>> {
  if (!codes.length) return {};
  const data = await request<{ labels: Record<string, string> }>("GET", "/region-labels", { query: { codes: codes.join(",") } });
  return data.labels ?? {};
}

export async function lookup(object: string, q: string, limit = 8): Promise<LookupItem[]> {
  const data = await request<{ items: LookupItem[] }>("GET", `/lookup/${enc(object)}`, { query: { q, limit } });
  return data.items ?? [];
}

export async function suggestTags(object: string, q: string): Promise<TagSuggestion[]> {
  const data = await request<{ items: TagSuggestion[] }>("GET", "/tags", { query: { object, q, limit: 20 } });
  return data.items ?? [];
}

export async function trash(object: string): Promise<Page<RecordData>> {
  const data = await request<Page<RecordData>>("GET", `/records/${enc(object)}/trash`, { query: { limit: 100 } });
  return { items: data.items ?? [], next_cursor: data.next_cursor ?? null };
}

export async function restore(object: string, id: number): Promise<void> {
  await request("POST", `/records/${enc(object)}/${id}/restore`, { body: {} });
}

/** The conversion of an object (what converting creates), or null when it has none. */
export async function conversionOf(object: string): Promise<ConversionInfo | null> {
  const data = await request<{ conversion: ConversionInfo | null }>("GET", `/conversions/${enc(object)}`);
  return data.conversion ?? null;
}

export async function convert(object: string, id: number, choices: Record<string, boolean>): Promise<Record<string, number | null>> {
  return request("POST", `/records/${enc(object)}/${id}/convert`, { body: choices });
}
