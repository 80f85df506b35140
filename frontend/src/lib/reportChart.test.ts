// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { ReportResult } from "../api/reports";
import { chartOption, dropOffs, keyLabel, secondAxis } from "./reportChart";

const result: ReportResult = {
  report: "r", object: "opportunity", chart: { type: "bar" }, truncated: false,
  columns: [
    { name: "month", label: "Month", role: "dimension" }, { name: "stage", label: "Stage", role: "dimension" },
    { name: "amount", label: "Amount", role: "measure", agg: "sum" },
  ],
  rows: [["2026-01", "won", 10], ["2026-01", "lost", 5], ["2026-02", "won", 7], [null, "won", 1]],
  labels: { stage: { won: "Won", lost: "Lost" }, month: { "": "(empty)" } },
};

describe("report charts", () => {
  it("computes funnel drop-off per step", () => {
    expect(dropOffs([100, 60, 15, 15])).toEqual([null, 40, 75, 0]);
    expect(dropOffs([0, 3])).toEqual([null, null]);
  });

  it("labels keys, the empty group included", () => {
    expect(keyLabel(result, "stage", "won")).toBe("Won");
    expect(keyLabel(result, "month", null)).toBe("(empty)");
    expect(keyLabel(result, "month", "2026-02")).toBe("2026-02");
  });

  it("draws two dimensions as one series per second key, each point carrying its cell", () => {
    const option = chartOption(result, "bar", { stacked: true }) as { xAxis: { data: string[] }; series: {
      name: string; stack?: string; data: ({ value: unknown; cell: Record<string, unknown>; measure: string } | null)[] }[] };
    expect(option.xAxis.data).toEqual(["2026-01", "2026-02", "(empty)"]);
    expect(option.series.map((s) => s.name)).toEqual(["Won", "Lost"]);
    expect(option.series[0].stack).toBe("total");
    expect(option.series[0].data[2]).toEqual({ value: 1, cell: { month: null, stage: "won" }, measure: "amount" });
    expect(option.series[1].data[1]).toBeNull();
  });

  it("puts drop-off in the funnel's labels", () => {
    const funnel: ReportResult = { ...result, columns: [result.columns[1], result.columns[2]],
      rows: [["won", 10], ["lost", 4]] };
    const option = chartOption(funnel, "funnel", { dropOffText: "drop" }) as { series: { data: { dropOff: number | null }[];
      label: { formatter: (p: { name: string; value: unknown; dataIndex: number }) => string } }[] };
    expect(option.series[0].data.map((d) => d.dropOff)).toEqual([null, 60]);
    expect(option.series[0].label.formatter({ name: "Lost", value: 4, dataIndex: 1 })).toBe("Lost: 4  (drop 60%)");
  });
});

describe("previous period", () => {
  it("adds a ghost series aligned by key", () => {
    const one: ReportResult = { ...result, columns: [result.columns[1], result.columns[2]],
      rows: [["won", 10], ["lost", 4]], previous: { parameters: {}, rows: [["lost", 2]] } };
    const option = chartOption(one, "bar", { previousText: "before" }) as { series: { name: string; data: ({ value: unknown } | null)[] }[] };
    expect(option.series.map((s) => s.name)).toEqual(["Amount", "Amount (before)"]);
    expect(option.series[1].data.map((d) => d?.value ?? null)).toEqual([null, 2]);
  });
  it("puts a measure of another magnitude on a second axis, so a count beside an amount is not flat", () => {
    expect(secondAxis([[120, 80], [180000, 150000]])).toEqual([false, true]);
    expect(secondAxis([[10, 20], [15, 30]])).toEqual([false, false]);
    expect(secondAxis([[0, 0], [5, 9]])).toEqual([false, false]);
    const bands: ReportResult = { ...result, columns: [result.columns[0],
      { name: "leads", label: "Leads", role: "measure", agg: "count" }, { name: "budget", label: "Budget", role: "measure", agg: "avg" }],
      rows: [["< 20", 120, 180000], ["20 – 40", 80, 150000]] };
    const option = chartOption(bands, "bar", {}) as { yAxis: unknown[]; series: { name: string; yAxisIndex?: number }[] };
    expect(option.yAxis).toHaveLength(2);
    expect(option.series.map((x) => [x.name, x.yAxisIndex ?? 0])).toEqual([["Leads", 0], ["Budget", 1]]);
    const stacked = chartOption(bands, "bar", { stacked: true }) as { yAxis: unknown; series: { yAxisIndex?: number }[] };
    expect(Array.isArray(stacked.yAxis)).toBe(false);
  });
});
