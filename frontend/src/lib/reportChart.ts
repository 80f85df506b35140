// From a report result to an ECharts option: one function per chart type, pure (tested with
// Vitest). Every data point carries its cell (dimension keys) and measure, so a click can ask the
// server for the drill-down rule and open exactly the cell's records.
import type { ChartType, ReportResult } from "../api/reports";

export interface Cell {
  cell: Record<string, unknown>;
  measure: string;
}

type Datum = { value: unknown; name?: string } & Cell;

/** Series past this many points render progressively (ECharts draws them in chunks). */
export const PROGRESSIVE = 2000;

export function keyLabel(result: ReportResult, dim: string, value: unknown): string {
  const labels = result.labels[dim] ?? {};
  const key = value === null || value === undefined ? "" : String(value);
  return labels[key] ?? (key === "" ? "—" : key);
}

function split(result: ReportResult) {
  const dims = result.columns.filter((c) => c.role === "dimension");
  const measures = result.columns.filter((c) => c.role === "measure");
  return { dims, measures, n: dims.length };
}

function distinct(rows: unknown[][], index: number): unknown[] {
  const seen = new Map<string, unknown>();
  for (const r of rows) {
    const k = JSON.stringify(r[index] ?? null);
    if (!seen.has(k)) seen.set(k, r[index] ?? null);
  }
  return [...seen.values()];
}

/** Drop-off from each funnel step to the next, in %, one decimal (the first step: null). */
export function dropOffs(values: number[]): (number | null)[] {
  return values.map((v, i) => (i === 0 || !values[i - 1] ? null : Math.round((1 - v / values[i - 1]) * 1000) / 10));
}

export function chartOption(result: ReportResult, type: ChartType, opts: { stacked?: boolean; horizontal?: boolean;
  dropOffText?: string; previousText?: string } = {}): Record<string, unknown> {
  const { dims, measures, n } = split(result);
  const rows = result.rows;
  const tooltip = { trigger: type === "pie" || type === "funnel" || type === "map" ? "item" : "axis", confine: true };
  const cellOf = (r: unknown[]) => Object.fromEntries(dims.map((d, i) => [d.name, r[i] ?? null]));
  const m0 = measures[0];
  if (type === "pie" || type === "funnel" || type === "map") {
    const dim = dims[0];
    const data: Datum[] = rows.map((r) => ({ name: dim ? keyLabel(result, dim.name, r[0]) : m0.label,
      value: r[n], cell: cellOf(r), measure: m0.name }));
    if (type === "pie") {
      return { tooltip, legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data, label: { formatter: "{b}: {d}%" } }] };
    }
    if (type === "map") {
      const max = Math.max(1, ...data.map((d) => Number(d.value) || 0));
      return { tooltip, visualMap: { min: 0, max, left: "left", bottom: 0, calculable: true },
        series: [{ type: "map", map: "china", roam: true, data }] };
    }
    const drops = dropOffs(data.map((d) => Number(d.value) || 0));
    const text = opts.dropOffText ?? "drop-off";
    return { tooltip, series: [{ type: "funnel", sort: "none", left: "10%", width: "70%", minSize: "8%", gap: 2,
      data: data.map((d, i) => ({ ...d, dropOff: drops[i] })),
      label: { show: true, position: "inside", formatter: (p: { name: string; value: unknown; dataIndex: number }) =>
        `${p.name}: ${p.value}` + (drops[p.dataIndex] === null ? "" : `  (${text} ${drops[p.dataIndex]}%)`) } }] };
  }
  if (type === "heatmap" && n >= 2) {
    const xs = distinct(rows, 0), ys = distinct(rows, 1);
    const data = rows.map((r) => ({ value: [xs.indexOf(r[0] ?? null), ys.indexOf(r[1] ?? null), r[n]],
      cell: cellOf(r), measure: m0.name }));
    const max = Math.max(1, ...rows.map((r) => Number(r[n]) || 0));
    return { tooltip: { position: "top" }, grid: { bottom: 60 },
      xAxis: { type: "category", data: xs.map((x) => keyLabel(result, dims[0].name, x)) },
      yAxis: { type: "category", data: ys.map((y) => keyLabel(result, dims[1].name, y)) },
      visualMap: { min: 0, max, calculable: true, orient: "horizontal", left: "center", bottom: 0 },
      series: [{ type: "heatmap", data, label: { show: rows.length <= 200 } }] };
  }
  // bar / line / area: categories from the first dimension; series from the second dimension
  // (first measure) or else one per measure
  const seriesType = type === "line" || type === "area" ? "line" : "bar";
  const xs = n ? distinct(rows, 0) : [null];
  const categories = xs.map((x) => (n ? keyLabel(result, dims[0].name, x) : m0.label));
  const index = new Map(xs.map((x, i) => [JSON.stringify(x), i]));
  const series: Record<string, unknown>[] = [];
  const base = (name: string, data: (Datum | null)[]) => ({
    type: seriesType, name, data, stack: opts.stacked ? "total" : undefined,
    areaStyle: type === "area" ? {} : undefined, emphasis: { focus: "series" },
    ...(data.length > PROGRESSIVE ? { progressive: 500, progressiveThreshold: PROGRESSIVE, large: seriesType === "bar" } : {}),
  });
  if (n >= 2) {
    for (const s of distinct(rows, 1)) {
      const data: (Datum | null)[] = xs.map(() => null);
      for (const r of rows) {
        if (JSON.stringify(r[1] ?? null) !== JSON.stringify(s)) continue;
        data[index.get(JSON.stringify(r[0] ?? null)) ?? 0] = { value: r[n], cell: cellOf(r), measure: m0.name };
      }
      series.push(base(keyLabel(result, dims[1].name, s), data));
    }
  } else {
    const second = secondAxis(measures.map((_, j) => rows.map((r) => r[n + j])));
    for (const [j, m] of measures.entries()) {
      const data: (Datum | null)[] = xs.map(() => null);
      for (const r of rows) data[index.get(JSON.stringify(n ? r[0] ?? null : null)) ?? 0] = { value: r[n + j], cell: cellOf(r), measure: m.name };
      series.push({ ...base(m.label, data), ...(second[j] && !opts.stacked && !opts.horizontal ? { yAxisIndex: 1 } : {}) });
    }
  }
  if (result.previous && n <= 1 && opts.previousText) {
    // the period before: aligned by key, or by position for a date bucket (its months differ)
    const bucket = n === 1 && !!dims[0].bucket;
    const prev = result.previous.rows;
    const byKey = new Map(prev.map((r) => [JSON.stringify(n ? r[0] ?? null : null), r]));
    const data = xs.map((x, i) => {
      const r = bucket ? prev[i] : byKey.get(JSON.stringify(x));
      return r === undefined ? null : { value: r[n], cell: {}, measure: m0.name };
    });
    series.push({ ...base(`${m0.label} (${opts.previousText})`, data), stack: undefined,
      itemStyle: { opacity: 0.45 }, lineStyle: { type: "dashed" }, silent: true });
  }
  const category = { type: "category", data: categories, axisLabel: { hideOverlap: true } };
  const value = { type: "value" };
  const twoAxes = series.some((x) => x.yAxisIndex === 1);
  return { tooltip, legend: { type: "scroll", top: 0 }, grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: opts.horizontal ? value : category,
    yAxis: opts.horizontal ? category : twoAxes ? [value, { type: "value", splitLine: { show: false } }] : value, series };
}

/** Which measures go on a second value axis: those whose largest value is 10x away from the first
 * measure's (a count beside an amount would otherwise be drawn flat at zero). */
export function secondAxis(columns: unknown[][]): boolean[] {
  const top = columns.map((values) => Math.max(0, ...values.map((v) => Math.abs(Number(v) || 0))));
  const first = top[0] ?? 0;
  return top.map((t, j) => j > 0 && first > 0 && t > 0 && (t / first >= 10 || first / t >= 10));
}
