// The workflow builder and run debugger API (issue 17 contract, /tmp/lead/CONTRACT17.md): the step
// registry, drafts, validation, publishing with a policy for waiting runs, runs and their steps,
// re-runs and one-node tests. A server without the draft endpoints yet is read through the
// definitions store (the published document is then the starting draft).
import { ApiError, api, request } from "./client";
import type { Label } from "./types";
import type { WorkflowDoc } from "../lib/workflowGraph";

export interface StepTypeInfo {
  name: string;
  label?: Label;
  kind?: string;
  schema?: Record<string, unknown>;
  side_effects?: boolean;
}

/** GET /workflow-triggers: the canvas's trigger node, its types and JSON schema, and the enrollment
 * and goal settings that go with it. */
export interface TriggerInfo {
  node: string;
  kind: string;
  types: string[];
  schema: Record<string, unknown>;
  enrollment?: Record<string, unknown>;
  goal?: Record<string, unknown>;
  exit?: string;
}

export interface WorkflowSummary {
  name: string;
  label?: Label;
  object: string;
  enabled?: boolean;
  steps?: number;
  /** Runs of the workflow: a count, or counts per status. */
  runs?: number | Record<string, number>;
  published_version?: number | null;
  draft?: boolean;
}

export interface Draft {
  name: string;
  definition: WorkflowDoc;
  draft: boolean;
  updated_at?: string | null;
  updated_by?: string | null;
  published_version?: number | null;
}

export interface ServerProblem {
  node?: string;
  field?: string;
  /** JSON pointer into the definition (draft and validate answers). */
  pointer?: string;
  code: string;
  message: string;
}

export type PublishPolicy = "continue" | "move" | "cancel";

export interface PublishResult {
  version: number;
  continued?: number;
  moved?: number;
  stayed?: number[];
  cancelled?: number;
}

export interface Condition {
  field?: string;
  op?: string;
  value?: unknown;
  actual?: unknown;
  result: boolean;
}

export interface RunStep {
  node?: string;
  step?: string;
  kind?: string;
  type?: string;
  status: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  attempts?: number;
  started_at?: string | null;
  finished_at?: string | null;
  due_at?: string | null;
  iteration?: number | null;
  evaluation?: { result?: unknown; conditions?: Condition[] } | null;
}

export interface Run {
  id: number;
  workflow: string;
  version?: number | null;
  object?: string;
  record_id?: number | null;
  status: string;
  created_at?: string;
  finished_at?: string | null;
  error?: unknown;
  rerun_of?: number | null;
  steps?: RunStep[];
}

export interface RunQuery {
  workflow?: string;
  status?: string;
  version?: string;
  record?: string;
  cursor?: string | null;
}

export interface TestNodeResult {
  dry_run: boolean;
  output?: unknown;
  evaluation?: RunStep["evaluation"];
  error?: unknown;
}

function enc(part: string | number): string {
  return encodeURIComponent(String(part));
}

function items<T>(data: unknown, key = "items"): T[] {
  if (Array.isArray(data)) return data as T[];
  const d = (data ?? {}) as Record<string, unknown>;
  return Array.isArray(d[key]) ? (d[key] as T[]) : [];
}

function missing(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 404 || e.status === 405);
}

export const workflowsApi = {
  async steps(): Promise<StepTypeInfo[]> {
    return items<StepTypeInfo>(await request("GET", "/workflow-steps"));
  },
  /** The trigger node (null from a server without the endpoint: the canvas then shows it without a form). */
  async triggers(): Promise<TriggerInfo | null> {
    try {
      return await request<TriggerInfo>("GET", "/workflow-triggers");
    } catch (e) {
      if (missing(e)) return null;
      throw e;
    }
  },
  async list(): Promise<WorkflowSummary[]> {
    return items<WorkflowSummary>(await request("GET", "/workflows"));
  },
  async draft(name: string): Promise<Draft> {
    try {
      return await request<Draft>("GET", `/workflows/${enc(name)}/draft`);
    } catch (e) {
      if (!missing(e)) throw e;
      const definition = (await api.definition("workflow", name)) as WorkflowDoc;
      return { name, definition, draft: false };
    }
  },
  async saveDraft(name: string, definition: WorkflowDoc): Promise<{ problems: ServerProblem[] }> {
    const data = await request<{ problems?: ServerProblem[] }>("PUT", `/workflows/${enc(name)}/draft`, { body: { definition } });
    return { problems: data.problems ?? [] };
  },
  async validate(name: string, definition: WorkflowDoc): Promise<ServerProblem[]> {
    return items<ServerProblem>(await request("POST", `/workflows/${enc(name)}/validate`, { body: { definition } }), "problems");
  },
  async publish(name: string, policy: PublishPolicy): Promise<PublishResult> {
    return request<PublishResult>("POST", `/workflows/${enc(name)}/publish`, { body: { policy } });
  },
  async runs(q: RunQuery): Promise<{ items: Run[]; next_cursor: string | null }> {
    const data = await request<{ items?: Run[]; next_cursor?: string | null }>("GET", "/runs", {
      // `record_id` and `before` are the names the run list answered before the issue 17 contract.
      query: { workflow: q.workflow, status: q.status, version: q.version, record: q.record, record_id: q.record,
        cursor: q.cursor ?? undefined, before: q.cursor ?? undefined },
    });
    return { items: data.items ?? [], next_cursor: data.next_cursor ?? null };
  },
  async run(id: number): Promise<Run> {
    return request<Run>("GET", `/runs/${id}`);
  },
  async start(name: string, recordId: number): Promise<Run> {
    const data = await request<Run | { run: Run }>("POST", `/workflows/${enc(name)}/start`, { body: { record_id: recordId } });
    return "run" in data ? data.run : data;
  },
  async rerun(id: number, fromNode: string, confirmSideEffects: boolean): Promise<{ run: Run; rerun_of: number }> {
    return request("POST", `/runs/${id}/rerun`, { body: { from_node: fromNode, confirm_side_effects: confirmSideEffects } });
  },
  async testNode(name: string, node: string, recordId: number, definition?: WorkflowDoc): Promise<TestNodeResult> {
    return request("POST", `/workflows/${enc(name)}/test-node`, { body: { node, record_id: recordId, definition } });
  },
};
