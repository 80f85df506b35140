// The admin pages' endpoints: imports, duplicate review, users, roles and teams.
import type { Label, RecordData } from "./types";
import { API_BASE, request } from "./client";

export interface ImportField {
  name: string;
  type: string;
  label: Label;
  required: boolean;
  options: string[];
}

export interface MappingDetail {
  header: string;
  field: string;
  match?: string;
  score?: number;
  confirm?: boolean;
}

export interface CellError {
  row: number;
  header?: string;
  field?: string;
  code?: string;
  message: string;
}

/** Something the import did that the user should know (e.g. time_dropped: a date field fed date-times). */
export interface ImportNote {
  field: string;
  header: string;
  code: string;
  rows: number;
  message: string;
}

export interface ImportPreview {
  headers: string[];
  rows: unknown[][] | Record<string, unknown>[];
  total_rows: number;
  sheet?: string | null;
  sheets?: string[];
  header_row?: number;
  header_guessed?: boolean;
  suggested_mapping: Record<string, string>;
  mapping_details: MappingDetail[];
  unmapped_columns: { header: string; decision: string; keep_field: string | null }[];
  keep_field?: string | null;
  missing_required: string[];
  unmapped_values?: { header: string; field: string; values: { value: string; count: number }[] }[];
  fields: ImportField[];
  errors?: CellError[];
  cell_errors?: CellError[];
  notes?: ImportNote[];
}

export interface ImportJob {
  id: number;
  object: string;
  filename?: string;
  status: string;
  total_rows: number;
  rows_done: number;
  percent: number;
  rate?: number | null;
  created?: number;
  updated?: number;
  skipped?: number;
  merged?: number;
  failed?: number;
  flagged?: number;
  created_by?: number;
  created_at?: string;
  error?: string | null;
  options?: { notes?: ImportNote[] } & Record<string, unknown>;
}

export interface ImportTemplate {
  name: string;
  object: string;
  label?: string | null;
  mapping: Record<string, string | null>;
  constants?: Record<string, unknown>;
  owner_id?: number | null;
}

export interface ImportOptions {
  mapping: Record<string, string | null>;
  on_duplicate?: string;
  day_first?: "" | "true" | "false";
  timezone?: string;
  region?: string;
  header_row?: number | null;
  sheet?: string;
}

export interface Candidate {
  id: number;
  object: string;
  left_id: number;
  right_id: number;
  score?: number;
  rules?: string[];
  fields?: string[];
  status: string;
  left: RecordData | null;
  right: RecordData | null;
}

export interface MergeInfo {
  id: number;
  object: string;
  survivor_id: number;
  merged_ids: number[];
  created_at?: string;
  undone_at?: string | null;
}

export interface AdminUser {
  id: number;
  username: string;
  display_name: string;
  email: string | null;
  language: string;
  time_zone?: string | null;
  active: boolean;
  is_admin: boolean;
  roles: string[];
  teams: string[];
  password?: string | null;
}

export interface Grant {
  object: string;
  verbs: string[];
  scope: string;
  hidden_fields: string[];
  readonly_fields: string[];
}

export interface Role {
  id: number;
  name: string;
  description: string;
  grants: Grant[];
  users: number;
}

export interface Team {
  id: number;
  name: string;
  label: string;
}

function importForm(object: string, file: File, options?: Partial<ImportOptions>): FormData {
  const form = new FormData();
  form.set("object", object);
  form.set("file", file);
  if (options?.mapping) form.set("mapping", JSON.stringify(options.mapping));
  if (options?.on_duplicate) form.set("on_duplicate", options.on_duplicate);
  if (options?.day_first) form.set("day_first", options.day_first);
  if (options?.timezone) form.set("timezone", options.timezone);
  if (options?.region) form.set("phone_region", options.region);
  if (options?.sheet) form.set("sheet", options.sheet);
  if (options?.header_row) form.set("header_row", String(options.header_row));
  return form;
}

const items = <T,>(p: Promise<{ items: T[] }>): Promise<T[]> => p.then((d) => d.items ?? []);

export const adminApi = {
  preview: (object: string, file: File, options?: Partial<ImportOptions>) =>
    request<ImportPreview>("POST", "/imports/preview", { body: importForm(object, file, options), query: { rows: 10 } }),
  startImport: (object: string, file: File, options: ImportOptions) =>
    request<ImportJob>("POST", "/imports", { body: importForm(object, file, options) }),
  importJob: (id: number) => request<ImportJob>("GET", `/imports/${id}`),
  imports: () => items(request<{ items: ImportJob[] }>("GET", "/imports", { query: { limit: 20 } })),
  resumeImport: (id: number) => request<ImportJob>("POST", `/imports/${id}/resume`),
  errorFileUrl: (id: number, language: string) => `${API_BASE}/imports/${id}/errors?language=${encodeURIComponent(language)}`,
  templates: (object: string) => items(request<{ items: ImportTemplate[] }>("GET", "/import-templates", { query: { object } })),
  saveTemplate: (name: string, object: string, mapping: Record<string, string | null>) =>
    request<ImportTemplate>("PUT", `/import-templates/${encodeURIComponent(name)}`, { body: { object, mapping, label: name } }),

  candidates: (object: string) =>
    request<{ items: Candidate[]; counts: Record<string, number> }>("GET", `/dedupe/${encodeURIComponent(object)}/candidates`),
  scan: (object: string) => request<unknown>("POST", `/dedupe/${encodeURIComponent(object)}/scan`, { query: { wait: true } }),
  mergeFields: (id: number, survivorId: number, keep: Record<string, number>) =>
    request<MergeInfo>("POST", `/dedupe/candidates/${id}/merge-fields`, { body: { survivor_id: survivorId, keep } }),
  dismiss: (id: number) => request<Candidate>("POST", `/dedupe/candidates/${id}/dismiss`),
  merges: (object: string) => items(request<{ items: MergeInfo[] }>("GET", `/dedupe/${encodeURIComponent(object)}/merges`)),
  undoMerge: (id: number, force = false) => request<MergeInfo>("POST", `/dedupe/merges/${id}/undo`, force ? { body: { force } } : {}),

  users: () => items(request<{ items: AdminUser[] }>("GET", "/admin/users")),
  createUser: (body: Partial<AdminUser> & { password?: string }) => request<AdminUser>("POST", "/admin/users", { body }),
  updateUser: (id: number, body: Partial<AdminUser>) => request<AdminUser>("PATCH", `/admin/users/${id}`, { body }),
  resetPassword: (id: number, password?: string) =>
    request<{ password: string | null }>("POST", `/admin/users/${id}/password`, { body: password ? { password } : {} }),
  roles: () => items(request<{ items: Role[] }>("GET", "/admin/roles")),
  createRole: (name: string, description: string) => request<Role>("POST", "/admin/roles", { body: { name, description } }),
  saveGrants: (name: string, grants: Grant[]) =>
    request<Role>("PUT", `/admin/roles/${encodeURIComponent(name)}/grants`, { body: { grants } }),
  teams: () => items(request<{ items: Team[] }>("GET", "/admin/teams")),
  createTeam: (name: string, label: string) => request<Team>("POST", "/admin/teams", { body: { name, label } }),
};
