// The pipelines API (/api/v1/pipelines): kanban columns with header sums, and moves that save the
// stage, the fields the stage needs and the column's card order in one request.
import { request } from "./client";
import type { Label, RecordData } from "./types";

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

function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body === undefined ? {} : { body });
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
