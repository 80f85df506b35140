// "My day": what a rep works on first after login: leads due for follow-up, open opportunities by
// stage, tasks due today and overdue, unread notifications (GET /home) and the records viewed last
// in this browser.
import { api } from "../api/client";
import type { HomeTask } from "../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../components/common";
import { useI18n } from "../i18n";
import { formatDateTime, formatWhen } from "../lib/format";
import { loadRecent } from "../lib/recent";
import { Link } from "../lib/router";
import { useSession } from "../session";

function TaskList({ tasks, empty }: { tasks: HomeTask[]; empty: string }) {
  const { lang } = useI18n();
  if (!tasks.length) return <p className="muted">{empty}</p>;
  return (
    <ul className="home-list">
      {tasks.map((task) => (
        <li key={task.id}>
          <Link to={`/o/activity/${task.id}`}>{task.title}</Link>
          {task.due_at && <span className="muted"> · {formatDateTime(task.due_at, lang)}</span>}
          {task.record && <> · <Link to={`/o/${task.record.object}/${task.record.id}`}>{task.record.title}</Link></>}
        </li>
      ))}
    </ul>
  );
}

export function HomePage() {
  const { t, label, lang } = useI18n();
  const { me } = useSession();
  const home = useLoad(() => api.home(), []);
  const recent = me ? loadRecent(me.id) : [];
  const money = new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: 0 });
  return (
    <div className="page home">
      <PageHeader title={t("home.title")} />
      <ErrorMessage error={home.error} />
      {!home.data && !home.error && <Loading />}
      {home.data && (
        <div className="home-grid">
          <section className="card" aria-labelledby="home-leads">
            <h2 id="home-leads">{t("home.leads_due")}</h2>
            {home.data.leads_due.length ? (
              <ul className="home-list">
                {home.data.leads_due.map((l) => (
                  <li key={l.id}>
                    <Link to={`/o/lead/${l.id}`}>{l.title}</Link>
                    {l.subtitle && <span className="muted"> · {l.subtitle}</span>}
                    {l.due_at && <span className="muted"> · {formatWhen(l.due_at, lang)}</span>}
                  </li>
                ))}
              </ul>
            ) : <p className="muted">{t("home.none")}</p>}
          </section>
          <section className="card" aria-labelledby="home-tasks">
            <h2 id="home-tasks">{t("home.tasks")}</h2>
            <h3>{t("home.overdue")}</h3>
            <TaskList tasks={home.data.tasks.overdue} empty={t("home.none")} />
            <h3>{t("home.today")}</h3>
            <TaskList tasks={home.data.tasks.today} empty={t("home.none")} />
          </section>
          <section className="card" aria-labelledby="home-opps">
            <h2 id="home-opps">{t("home.opportunities")}</h2>
            <table className="records">
              <tbody>
                {home.data.opportunities_by_stage.map((s) => (
                  <tr key={s.stage}>
                    <th scope="row">{label(s.label, s.stage)}</th>
                    <td>{s.count}</td>
                    <td>{s.amount ? "¥" + money.format(Number(s.amount)) : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section className="card" aria-labelledby="home-recent">
            <h2 id="home-recent">{t("home.recent")}</h2>
            <p>{t("home.unread", { n: home.data.unread_notifications })}</p>
            {recent.length ? (
              <ul className="home-list">
                {recent.map((r) => <li key={r.object + r.id}><Link to={`/o/${r.object}/${r.id}`}>{r.title}</Link></li>)}
              </ul>
            ) : <p className="muted">{t("home.none")}</p>}
          </section>
        </div>
      )}
    </div>
  );
}
