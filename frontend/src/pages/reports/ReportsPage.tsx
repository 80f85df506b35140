// /reports: the dashboards of my roles and the reports I may run (the server leaves out any report
// reading a field hidden from me), and the way to build a new one.
import { reportsApi } from "../../api/reports";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { Link } from "../../lib/router";
import { REPORT_TEXT } from "./reportText";

export function ReportsPage() {
  const { label } = useI18n();
  const reports = useLoad(() => reportsApi.list(), []);
  const dashboards = useLoad(() => reportsApi.dashboards(), []);
  return (
    <div className="page">
      <PageHeader title={label(REPORT_TEXT.reports)}>
        <Link to="/reports/new" className="button primary">{label(REPORT_TEXT.newReport)}</Link>
      </PageHeader>
      <section className="card">
        <h2>{label(REPORT_TEXT.dashboards)}</h2>
        <ErrorMessage error={dashboards.error} />
        {dashboards.loading && <Loading />}
        {dashboards.data && !dashboards.data.length && <p className="muted">{label(REPORT_TEXT.noDashboards)}</p>}
        <ul className="plain-list">
          {dashboards.data?.map((d) => <li key={d.name}><Link to={`/dashboards/${d.name}`}>{label(d.label, d.name)}</Link></li>)}
        </ul>
      </section>
      <section className="card">
        <h2>{label(REPORT_TEXT.reports)}</h2>
        <ErrorMessage error={reports.error} />
        {reports.loading && <Loading />}
        <ul className="plain-list">
          {reports.data?.map((r) => (
            <li key={r.name}><Link to={`/reports/${r.name}`}>{label(r.label, r.name)}</Link>{" "}
              <span className="muted">{r.object} · {r.chart?.type ?? "table"}</span></li>
          ))}
        </ul>
      </section>
    </div>
  );
}
