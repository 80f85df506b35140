// One report result drawn with ECharts (bar, line, area, pie, funnel with drop-off %, heatmap, the
// province map) or as a number or a table. Clicking a point asks the server for the cell's rule and
// opens the list filtered by it: the list's total is the number the chart showed.
import { useMemo, useState } from "react";
import * as echarts from "echarts/core";
import { BarChart, FunnelChart, HeatmapChart, LineChart, MapChart, PieChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import ReactEChartsCore from "echarts-for-react/esm/core";
import { reportsApi, type ChartType, type Params, type ReportResult } from "../../api/reports";
import { ErrorMessage } from "../../components/common";
import { useI18n } from "../../i18n";
import { useRouter } from "../../lib/router";
import { chartOption, keyLabel, type Cell } from "../../lib/reportChart";
import { REPORT_TEXT } from "./reportText";

echarts.use([BarChart, LineChart, PieChart, FunnelChart, HeatmapChart, MapChart, GridComponent, TooltipComponent,
  LegendComponent, VisualMapComponent, CanvasRenderer]);

let mapReady: Promise<void> | null = null;
/** The province map ships with the app (assets/maps, Apache-2.0): loaded on first use, never fetched from elsewhere. */
function loadMap(): Promise<void> {
  mapReady ??= import("../../assets/maps/china.json").then((m) => {
    echarts.registerMap("china", (m as { default: unknown }).default as Parameters<typeof echarts.registerMap>[1]);
  });
  return mapReady;
}

export function ReportChart({ result, type, name, parameters, stacked, horizontal, height = 360 }: {
  result: ReportResult; type: ChartType; name?: string; parameters?: Params; stacked?: boolean;
  horizontal?: boolean; height?: number;
}) {
  const { label } = useI18n();
  const { navigate } = useRouter();
  const [error, setError] = useState<unknown>(null);
  const [mapLoaded, setMapLoaded] = useState(false);
  const option = useMemo(() => (type === "number" || type === "table" || type === "pivot") ? null
    : chartOption(result, type, { stacked, horizontal, dropOffText: label(REPORT_TEXT.dropOff),
      previousText: label(REPORT_TEXT.previous) }),
  [result, type, stacked, horizontal, label]);

  const drillName = result.drill === false ? undefined : name;  // drill: false -> cells do not open records
  const open = async (cell: Cell) => {
    if (!drillName) return;
    try {
      const drilled = await reportsApi.drill(drillName, cell.cell, cell.measure, parameters ?? {});
      navigate(`/o/${drilled.object}?filter=${encodeURIComponent(JSON.stringify(drilled.rule))}`);
    } catch (e) {
      setError(e);
    }
  };

  if (type === "map" && !mapLoaded) {
    void loadMap().then(() => setMapLoaded(true), setError);
  }
  if (!result.rows.length) return <p className="muted">{label(REPORT_TEXT.empty)}</p>;
  if (type === "number") {
    const measures = result.columns.filter((c) => c.role === "measure");
    const n = result.columns.length - measures.length;
    return (
      <div className="report-number" data-testid="report-number">
        {measures.map((m, j) => (
          <button type="button" key={m.name} className="link report-number-value" disabled={!drillName}
            onClick={() => void open({ cell: {}, measure: m.name })}>
            <strong>{formatNumber(result.rows[0][n + j])}</strong> <span className="muted">{m.label}</span>
          </button>
        ))}
        <ErrorMessage error={error} />
      </div>
    );
  }
  if (type === "table" || type === "pivot" || !option || (type === "map" && !mapLoaded)) {
    return <ReportTable result={result} onOpen={drillName ? open : undefined} error={error} />;
  }
  return (
    <div data-testid="report-chart">
      <ReactEChartsCore echarts={echarts} option={option} notMerge lazyUpdate style={{ height }}
        onEvents={{ click: (p: { data?: Partial<Cell> }) => { if (p.data?.cell) void open(p.data as Cell); } }} />
      <ErrorMessage error={error} />
    </div>
  );
}

function formatNumber(v: unknown): string {
  if (typeof v === "number") return v.toLocaleString(undefined, { maximumFractionDigits: 2 });
  return v === null || v === undefined ? "—" : String(v);
}

export function ReportTable({ result, onOpen, error }: { result: ReportResult; onOpen?: (c: Cell) => void; error?: unknown }) {
  const dims = result.columns.filter((c) => c.role === "dimension");
  const n = dims.length;
  return (
    <div className="table-wrap">
      <table className="report-table" data-testid="report-table">
        <thead><tr>{result.columns.map((c) => <th key={c.name}>{c.label}</th>)}</tr></thead>
        <tbody>
          {result.rows.map((r, i) => {
            const cell = Object.fromEntries(dims.map((d, k) => [d.name, r[k] ?? null]));
            return (
              <tr key={i}>
                {result.columns.map((c, k) => (
                  <td key={c.name} className={k >= n ? "num" : undefined}>
                    {k < n ? keyLabel(result, c.name, r[k]) : onOpen ? (
                      <button type="button" className="link" onClick={() => onOpen({ cell, measure: c.name })}>
                        {formatNumber(r[k])}
                      </button>
                    ) : formatNumber(r[k])}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      <ErrorMessage error={error} />
    </div>
  );
}
