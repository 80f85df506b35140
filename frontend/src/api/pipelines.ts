// The pipelines API (/api/v1/pipelines): kanban columns with header sums, and moves that save the
// stage, the fields the stage needs and the column's card order in one request.
import { API_BASE, ApiError, api } from "./client";
import type { Label, ProblemItem, RecordData } from "./types";

export interface PipelineStage {
  key: string;
  label: Label;
  kind: "open" | "won" | "lost";
  default_probability: number | null;
  required_fields: string[];
}

export interface PipelineInfo {
  name: string;
  label: Label;
  object: string;
  stage_field: string;
  amount_field: string | null;
  stages: PipelineStage[];
}

export interface BoardColumn {
  stage: string;
  label: Label;
  kind: string;
  required_fields: string[];
  count: number;
  amount: string | null;
  weighted: string | null;
  cards: RecordData[];
}

export interface MoveResult {
  record: RecordData;
  columns: BoardColumn[];
}

let csrf: string | null = null;

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    if (csrf === null) csrf = (await api.me()).csrf_token ?? "";
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let response: Response;
  try {
    response = await fetch(API_BASE + path, { method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problem = data as { code?: string; title?: string; errors?: ProblemItem[] };
    throw new ApiError(response.status, problem.code ?? "http_" + response.status, problem.title ?? response.statusText,
      Array.isArray(problem.errors) ? problem.errors : []);
  }
  return data as T;
}

const enc = encodeURIComponent;

export const pipelinesApi = {
  async list(): Promise<PipelineInfo[]> {
    return (await send<{ items: PipelineInfo[] }>("GET", "/pipelines")).items;
  },
  async board(name: string, limit = 50): Promise<BoardColumn[]> {
    return (await send<{ columns: BoardColumn[] }>("GET", `/pipelines/${enc(name)}/board?limit=${limit}`)).columns;
  },
  /** Stage + fields + the target column's order, one save; 422 names each missing field and the stage. */
  async move(name: string, move: { record_id: number; stage: string; version?: number; fields?: Record<string, unknown>;
    order?: number[] }): Promise<MoveResult> {
    return send<MoveResult>("POST", `/pipelines/${enc(name)}/move`, move);
  },
};
