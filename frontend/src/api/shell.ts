// The app shell's API: global search, the notification inbox, saved views on the server and
// background exports. All through client.request (one CSRF and error path).
import { request } from "./client";
import type { Label, Rule } from "./types";

export interface SearchHit {
  id: number;
  title: string;
  subtitle?: string | null;
}

export interface SearchGroup {
  object: string;
  label: Label;
  items: SearchHit[];
}

export interface Notification {
  id: number;
  title: string;
  body: string;
  object: string | null;
  record_id: number | null;
  created_at: string;
  read_at: string | null;
}

export interface ServerView {
  id: number | string;
  object: string;
  name: string;
  columns: string[] | null;
  sort: string | null;
  filter: Rule | null;
  mine: boolean;
  builtin: boolean;
  owner?: { id: number; name: string } | null;
  shared?: { roles: string[]; teams: string[] };
}

export interface ExportJob {
  id: number;
  status: string;
  rows_done: number | null;
  rows_total: number | null;
  error?: unknown;
}

const enc = encodeURIComponent;

export const shellApi = {
  async search(q: string, limit = 5): Promise<SearchGroup[]> {
    return (await request<{ groups: SearchGroup[] }>("GET", "/search", { query: { q, limit } })).groups ?? [];
  },
  async notifications(limit = 20): Promise<{ items: Notification[]; unread: number }> {
    return request("GET", "/notifications", { query: { limit } });
  },
  async markRead(id: number): Promise<void> {
    await request("POST", `/notifications/${id}/read`, { body: {} });
  },
  async markAllRead(): Promise<void> {
    await request("POST", "/notifications/read", { body: {} });
  },
  async views(object: string): Promise<ServerView[]> {
    return (await request<{ items: ServerView[] }>("GET", "/views", { query: { object } })).items ?? [];
  },
  async createView(view: { object: string; name: string; columns: string[]; sort: string | null; filter: Rule | null }): Promise<ServerView> {
    return request("POST", "/views", { body: view });
  },
  async updateView(id: number, view: { name?: string; columns?: string[]; sort?: string | null; filter?: Rule | null }): Promise<ServerView> {
    return request("PUT", `/views/${id}`, { body: view });
  },
  async deleteView(id: number): Promise<void> {
    await request("DELETE", `/views/${id}`);
  },
  async startExport(object: string, body: { format: "csv" | "xlsx"; rule: unknown; columns: string[] | null; sort: string | null; language: string }): Promise<ExportJob> {
    return request("POST", `/exports/${enc(object)}`, { body });
  },
  async exportJob(id: number): Promise<ExportJob> {
    return request("GET", `/export-jobs/${id}`);
  },
  exportFileUrl(id: number): string {
    return `/api/v1/export-jobs/${id}/file`;
  },
};
