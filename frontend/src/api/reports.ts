// The reports API (/api/v1/reports, /api/v1/dashboards): run a saved or unsaved report within the
// caller's scope, turn a cell into the rule the list endpoint answers with exactly its rows, export.
import { API_BASE, request } from "./client";
import type { Label } from "./types";

export type ChartType = "bar" | "line" | "area" | "pie" | "funnel" | "heatmap" | "map" | "number" | "table" | "pivot";
export type Agg = "count" | "count_distinct" | "sum" | "avg" | "min" | "max" | "ratio";

export interface Dimension {
  name?: string;
  field: string;
  label?: Label;
  bucket?: "day" | "week" | "month" | "quarter" | "year";
  bins?: { width: number; start?: number } | { edges: number[] };
  top?: number | { n: number; by?: string };
}

export interface Measure {
  name?: string;
  label?: Label;
  agg: Agg;
  field?: string;
  filter?: unknown;
  of?: string;
  over?: string;
  format?: "number" | "percent" | "money";
}

export interface ReportParameter {
  name: string;
  type: "date_range" | "owner" | "team" | "value";
  field?: string;
  label?: Label;
}

export interface ReportDef {
  name: string;
  label: Label;
  object: string;
  dimensions?: Dimension[];
  measures: Measure[];
  filters?: unknown;
  parameters?: ReportParameter[];
  sort?: { by: string; desc?: boolean }[];
  limit?: number;
  time_zone?: string;
  chart?: { type?: ChartType; stacked?: boolean; horizontal?: boolean; compare_previous?: boolean };
  visible_to?: string[];
  author?: string;
}

export interface ResultColumn {
  name: string;
  label: string;
  role: "dimension" | "measure";
  field?: string | null;
  agg?: Agg;
  bucket?: string | null;
  type?: string;
}

export interface ReportResult {
  report: string | null;
  object: string;
  chart: { type?: ChartType; stacked?: boolean; horizontal?: boolean };
  columns: ResultColumn[];
  rows: unknown[][];
  labels: Record<string, Record<string, string>>;
  truncated: boolean;
  /** false: the definition says its cells do not open records */
  drill?: boolean;
  cached?: boolean;
  label?: Label;
  parameters?: Params;
  /** With chart.compare_previous and a full date range: the period of the same length just before. */
  previous?: { parameters: Params; rows: unknown[][] };
}

export interface Drilled {
  object: string;
  rule: unknown;
}

export interface DashboardDef {
  name: string;
  label: Label;
  roles?: string[];
  filters?: { parameter: string; type: string; label?: Label }[];
  widgets: { report: string; title?: Label; chart?: ChartType; x?: number; y?: number; w?: number; h?: number }[];
}

export interface WidgetResult {
  report: string;
  index: number;
  w?: number;
  h?: number;
  chart?: ChartType;
  title?: Label;
  result?: ReportResult;
  problem?: { status: number; code: string; detail: string; errors: { field: string; code: string; message: string }[] };
}

export type Params = Record<string, unknown>;

const enc = encodeURIComponent;

export const reportsApi = {
  list: () => request<{ items: ReportDef[] }>("GET", "/reports").then((r) => r.items),
  get: (name: string) => request<ReportDef>("GET", `/reports/${enc(name)}`),
  save: (doc: ReportDef) => request<unknown>("PUT", `/reports/${enc(doc.name)}`, { body: doc }),
  run: (name: string, parameters: Params = {}) =>
    request<ReportResult>("POST", `/reports/${enc(name)}/run`, { body: { parameters } }),
  preview: (definition: Omit<ReportDef, "name" | "label"> & Partial<ReportDef>, parameters: Params = {}) =>
    request<ReportResult>("POST", "/reports/preview", { body: { definition, parameters } }),
  drill: (name: string, cell: Record<string, unknown>, measure?: string, parameters: Params = {}) =>
    request<Drilled>("POST", `/reports/${enc(name)}/drill`, { body: { cell, measure, parameters } }),
  exportUrl: (name: string, format: "csv" | "xlsx", parameters: Params, language: string) =>
    `${API_BASE}/reports/${enc(name)}/export?format=${format}&language=${enc(language)}` +
    `&parameters=${enc(JSON.stringify(parameters))}`,
  dashboards: () => request<{ items: DashboardDef[] }>("GET", "/dashboards").then((r) => r.items),
  runDashboard: (name: string, filters: Params = {}) =>
    request<{ dashboard: DashboardDef; widgets: WidgetResult[] }>("POST", `/dashboards/${enc(name)}/run`,
      { body: { filters } }),
};
