// A small client over the types openapi-typescript generates from the live document (api.d.ts is
// written next to this file by tests/api/test_openapi_clients.py). Compiled with strict tsc: an
// untyped array (unknown[]), a nullable defaulted field or a missing operation breaks the build.
import type { components, paths } from "./api";

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type Lead = components["schemas"]["lead"];
type LeadCreate = components["schemas"]["lead.create"];
type LeadUpdate = components["schemas"]["lead.update"];
type Page = Json<paths["/records/lead"]["get"]["responses"]["200"]>;
type BulkCreated = Json<paths["/records/lead/bulk"]["post"]["responses"]["201"]>;
type ObjectInfo = Json<paths["/objects/{object}"]["get"]["responses"]["200"]>;
type Users = Json<paths["/users"]["get"]["responses"]["200"]>;

export const create: LeadCreate = { name: "Ana Lopez", city: "shanghai", status: "new" };
export const clear: LeadUpdate = { city: null, phone: null };
// @ts-expect-error a field with a default (status) is never set to null
export const wipe: LeadUpdate = { status: null };
// @ts-expect-error a required field (name) is never set to null
export const unnamed: LeadUpdate = { name: null };

export function names(page: Page): string[] {
  return page.items.map((lead: Lead) => `${lead.id}: ${lead.name ?? ""}`);
}
export function createdIds(out: BulkCreated): number[] {
  return out.ids.map((id) => (id === null ? 0 : id + 0)).filter((id) => id > 0);
}
export function fieldNames(info: ObjectInfo): string[] {
  return info.fields.map((f) => `${f.name}:${f.type}`);
}
export function userNames(users: Users): string[] {
  return users.items.map((u) => u.username.toUpperCase());
}

export async function createLead(base: string, token: string, body: LeadCreate): Promise<Lead> {
  const resp = await fetch(`${base}/records/lead`, {
    method: "POST", body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  });
  return (await resp.json()) as Json<paths["/records/lead"]["post"]["responses"]["201"]>;
}
