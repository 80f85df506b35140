// The one typed client of the MetaCRM HTTP API. Every page talks to the server through this
// module, so tests replace it with a mock and nothing else in the app knows URLs.
import type {
  DefinitionVersion,
  FormDoc,
  HomeData,
  ListQuery,
  Me,
  ObjectDetail,
  ObjectSummary,
  Page,
  Plan,
  ProblemItem,
  RecordData,
  SegmentSummary,
  TimelineEvent,
  UserSummary,
} from "./types";

export const API_BASE = "/api/v1";

/** An error answered by the server as problem+json (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problems: ProblemItem[];

  constructor(status: number, code: string, title: string, problems: ProblemItem[] = []) {
    super(title);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.problems = problems;
  }

  /** The record changed on the server since it was read (409 stale_version). */
  get isStale(): boolean {
    return this.status === 409 && (this.code === "stale_version" || this.problems.some((p) => p.code === "stale_version"));
  }
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  headers?: Record<string, string>;
}

interface Answer<T> {
  data: T;
  headers: Headers;
}

let csrfToken = "";
const SESSION_HINT = "metacrm.session";

function markSession(on: boolean): void {
  if (on) localStorage.setItem(SESSION_HINT, "1");
  else localStorage.removeItem(SESSION_HINT);
}

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return API_BASE + path + (qs ? "?" + qs : "");
}

async function call<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const isForm = typeof FormData !== "undefined" && options.body instanceof FormData;  // uploads (imports)
  if (options.body !== undefined && !isForm) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(buildUrl(path, options.query), {
      method,
      headers,
      credentials: "same-origin",
      body: options.body === undefined ? undefined : isForm ? (options.body as FormData) : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached");
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const body = (data && typeof data === "object" ? data : {}) as {
      code?: string;
      title?: string;
      errors?: ProblemItem[];
    };
    throw new ApiError(response.status, body.code ?? "http_" + response.status, body.title ?? response.statusText,
      Array.isArray(body.errors) ? body.errors : []);
  }
  return { data: data as T, headers: response.headers };
}

/** One JSON request for the small API modules beside this one (pipelines, pools): same CSRF, same errors. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  return (await call<T>(method, path, options)).data;
}

function enc(part: string | number): string {
  return encodeURIComponent(String(part));
}

function parseEtag(headers: Headers): number | undefined {
  const tag = headers.get("ETag");
  if (!tag) return undefined;
  const n = Number(tag.replace(/^W\//, "").replace(/"/g, ""));
  return Number.isFinite(n) ? n : undefined;
}

function listOf<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === "object") {
    const d = data as Record<string, unknown>;
    for (const key of ["items", "definitions", "versions", "events", "segments", "tags", "objects"]) {
      if (Array.isArray(d[key])) return d[key] as T[];
    }
  }
  return [];
}

/** A definition document as the definitions endpoints return it (body alone or wrapped). */
function docOf(data: unknown): Record<string, unknown> {
  const d = (data ?? {}) as Record<string, unknown>;
  if (d.body && typeof d.body === "object") return d.body as Record<string, unknown>;
  return d;
}

export interface RecordWithVersion {
  record: RecordData;
  version: number | undefined;
}

export const api = {
  async login(username: string, password: string): Promise<{ csrf_token: string }> {
    const { data } = await call<{ csrf_token: string }>("POST", "/auth/login", { body: { username, password } });
    setCsrfToken(data.csrf_token ?? "");
    markSession(true);
    return data;
  },
  async logout(): Promise<void> {
    markSession(false);
    await call("POST", "/auth/logout", { body: {} });
    setCsrfToken("");
  },
  /** Whether this browser logged in before (so the app asks /me instead of showing the login form). */
  hasSession(): boolean {
    return localStorage.getItem(SESSION_HINT) === "1";
  },
  async me(): Promise<Me> {
    let data: Me;
    try {
      data = (await call<Me>("GET", "/me")).data;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) markSession(false);
      throw e;
    }
    if (data.csrf_token) setCsrfToken(data.csrf_token);
    return data;
  },
  /** Change my own language, time zone (null: the browser's) or display name. */
  async updateMe(changes: { language?: string; time_zone?: string | null; display_name?: string }): Promise<Me> {
    return (await call<Me>("PATCH", "/me", { body: changes })).data;
  },
  async users(q = ""): Promise<UserSummary[]> {
    return listOf<UserSummary>((await call("GET", "/users", { query: { q, limit: 500 } })).data);
  },
  async objects(): Promise<ObjectSummary[]> {
    return listOf<ObjectSummary>((await call("GET", "/objects")).data);
  },
  async object(name: string): Promise<ObjectDetail> {
    return (await call<ObjectDetail>("GET", `/objects/${enc(name)}`)).data;
  },
  async listRecords(object: string, q: ListQuery = {}): Promise<Page<RecordData>> {
    const { data } = await call<Page<RecordData>>("GET", `/records/${enc(object)}`, {
      query: {
        filter: q.filter ? JSON.stringify(q.filter) : undefined,
        sort: q.sort,
        fields: q.fields?.join(","),
        limit: q.limit,
        cursor: q.cursor ?? undefined,
        count: q.count ? "true" : undefined,
      },
    });
    return { items: data.items ?? [], next_cursor: data.next_cursor ?? null, count: data.count };
  },
  async getRecord(object: string, id: number): Promise<RecordWithVersion> {
    const { data, headers } = await call<RecordData>("GET", `/records/${enc(object)}/${id}`);
    return { record: data, version: parseEtag(headers) ?? data.version };
  },
  async createRecord(object: string, values: Record<string, unknown>): Promise<RecordData> {
    return (await call<RecordData>("POST", `/records/${enc(object)}`, { body: values })).data;
  },
  async updateRecord(object: string, id: number, version: number, changes: Record<string, unknown>): Promise<RecordData> {
    return (await call<RecordData>("PATCH", `/records/${enc(object)}/${id}`, {
      body: changes,
      headers: { "If-Match": `"${version}"` },
    })).data;
  },
  async deleteRecord(object: string, id: number, version: number): Promise<void> {
    await call("DELETE", `/records/${enc(object)}/${id}`, { headers: { "If-Match": `"${version}"` } });
  },
  async timeline(object: string, id: number): Promise<TimelineEvent[]> {
    return listOf<TimelineEvent>((await call("GET", `/records/${enc(object)}/${id}/timeline`)).data);
  },
  /** One page of a record's timeline, newest first (50 unless `limit`); `next_cursor` asks for the older ones. */
  async timelinePage(object: string, id: number, cursor?: string | null, limit?: number): Promise<Page<TimelineEvent>> {
    const { data } = await call<Page<TimelineEvent>>("GET", `/records/${enc(object)}/${id}/timeline`, {
      query: { cursor: cursor ?? undefined, limit },
    });
    return { items: data.items ?? [], next_cursor: data.next_cursor ?? null };
  },
  async recordTags(object: string, id: number): Promise<string[]> {
    const { data } = await call<{ tags: string[] }>("GET", `/records/${enc(object)}/${id}/tags`);
    return data.tags ?? [];
  },
  async addTags(object: string, id: number, tags: string[]): Promise<void> {
    await call("POST", `/records/${enc(object)}/${id}/tags`, { body: { tags } });
  },
  async removeTag(object: string, id: number, tag: string): Promise<void> {
    await call("DELETE", `/records/${enc(object)}/${id}/tags/${enc(tag)}`);
  },
  async bulkUpdate(object: string, ids: number[], set: Record<string, unknown>, addTags: string[]): Promise<void> {
    await call("POST", `/records/${enc(object)}/bulk-update`, { body: { ids, set, add_tags: addTags } });
  },
  async submitForm(form: string, answers: Record<string, unknown>): Promise<RecordData> {
    return (await call<RecordData>("POST", `/forms/${enc(form)}/submit`, { body: answers })).data;
  },
  async segments(): Promise<SegmentSummary[]> {
    return listOf<SegmentSummary>((await call("GET", "/segments")).data);
  },
  async segmentCount(name: string): Promise<number> {
    const { data } = await call<{ count: number } | number>("GET", `/segments/${enc(name)}/count`);
    return typeof data === "number" ? data : data.count;
  },
  async definitions(kind: string): Promise<Record<string, unknown>[]> {
    return listOf<unknown>((await call("GET", `/definitions/${enc(kind)}`)).data).map(docOf);
  },
  async definition(kind: string, name: string): Promise<Record<string, unknown>> {
    return docOf((await call("GET", `/definitions/${enc(kind)}/${enc(name)}`)).data);
  },
  async putDefinition(kind: string, name: string, body: Record<string, unknown>, force = false): Promise<Plan> {
    return (await call<Plan>("PUT", `/definitions/${enc(kind)}/${enc(name)}`, {
      body,
      query: { force: force ? "true" : undefined },
    })).data;
  },
  async plan(definitions: { kind: string; name: string; body: Record<string, unknown> }[], force = false): Promise<Plan> {
    return (await call<Plan>("POST", "/definitions/plan", { body: { definitions }, query: { force: force ? "true" : undefined } })).data;
  },
  async versions(kind: string, name: string): Promise<DefinitionVersion[]> {
    return listOf<DefinitionVersion>((await call("GET", `/definitions/${enc(kind)}/${enc(name)}/versions`)).data);
  },
  async version(kind: string, name: string, n: number): Promise<DefinitionVersion> {
    const { data } = await call<DefinitionVersion>("GET", `/definitions/${enc(kind)}/${enc(name)}/versions/${n}`);
    return { ...data, body: docOf(data) };
  },
  /** The server export of a list view (same filter and columns, the caller's scope, labels in `language`). */
  exportUrl(object: string, format: "csv" | "xlsx", q: { filter?: unknown; fields?: string[]; language?: string }): string {
    return buildUrl(`/exports/${enc(object)}`, {
      format,
      filter: q.filter ? JSON.stringify(q.filter) : undefined,
      fields: q.fields?.join(","),
      language: q.language,
    });
  },
  /** "My day" for the caller (issue 13 contract, item 4). */
  async home(): Promise<HomeData> {
    return (await call<HomeData>("GET", "/home")).data;
  },
  async countWhere(object: string, filter: unknown): Promise<number> {
    const page = await this.listRecords(object, { filter: filter as ListQuery["filter"], limit: 1, count: true });
    return page.count ?? page.items.length;
  },
};

export type Api = typeof api;
export type { FormDoc };
