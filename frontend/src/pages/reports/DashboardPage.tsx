// /dashboards/:name: a grid of report widgets run with my own scope; global filters go to every
// report's parameter of the same name. A widget reading a field hidden from me shows that it is
// refused (the others still draw), never a blank or partial chart.
import { useState } from "react";
import { reportsApi, type Params } from "../../api/reports";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { Link } from "../../lib/router";
import { ReportChart } from "./ReportChart";
import { DateRange } from "./ReportPage";
import { REPORT_TEXT } from "./reportText";

export function DashboardPage({ name }: { name: string }) {
  const { label, lang } = useI18n();
  const [filters, setFilters] = useState<Params>({});
  const loaded = useLoad(() => reportsApi.runDashboard(name, filters), [name, filters, lang]);
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  const { dashboard, widgets } = loaded.data;
  return (
    <div className="page">
      <PageHeader title={label(dashboard.label, dashboard.name)}>
        <Link to="/reports" className="button">{label(REPORT_TEXT.reports)}</Link>
      </PageHeader>
      {dashboard.filters?.some((f) => f.type === "date_range") && (
        <DateRange value={filters.period as { from?: string; to?: string } | undefined}
          onChange={(v) => setFilters({ ...filters, period: v })} />
      )}
      <div className="dashboard-grid">
        {widgets.map((w) => (
          <section key={w.index} className="card dashboard-widget" data-testid={`widget-${w.report}`}
            style={{ gridColumn: `span ${Math.min(12, w.w ?? 6)}` }}>
            <h3><Link to={`/reports/${w.report}`}>{label(w.title ?? w.result?.label, w.report)}</Link></h3>
            {w.problem ? (
              <div className="alert alert-error" role="alert" data-testid="widget-refused">
                <strong>{label(REPORT_TEXT.refused)}</strong>
                <ul>{w.problem.errors.map((e, i) => <li key={i}><code>{e.field}</code> {e.message}</li>)}</ul>
              </div>
            ) : w.result ? (
              <ReportChart result={w.result} name={w.report} type={w.chart ?? w.result.chart.type ?? "table"}
                stacked={w.result.chart.stacked} horizontal={w.result.chart.horizontal}
                parameters={w.result.parameters ?? {}} height={Math.max(2, w.h ?? 4) * 70} />
            ) : null}
          </section>
        ))}
      </div>
    </div>
  );
}
