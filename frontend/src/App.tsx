// The shell: language, session, navigation generated from the objects the user may read, routes.
import { Suspense, lazy, useEffect, useState } from "react";
import { I18nProvider, LANGUAGES, useI18n, type Language } from "./i18n";
import { Link, Router, matchPath, useRouter } from "./lib/router";
import { SessionProvider, useSession } from "./session";
import { ErrorMessage, Loading } from "./components/common";
import { LoginPage } from "./pages/Login";
import { AdminOnly } from "./pages/admin/AdminOnly";
import { GlobalSearch } from "./components/GlobalSearch";
import { NotificationBell } from "./components/NotificationBell";
import { ProfileMenu } from "./components/ProfileMenu";
import { SHELL_TEXT } from "./lib/shellText";
import { REPORT_TEXT } from "./pages/reports/reportText";

// Every page is its own chunk (loaded when first opened): the entry holds the shell, login and
// the shared libraries only. React Flow and elkjs load only with the workflow builder and debugger.
const ListPage = lazy(() => import("./pages/ListPage").then((m) => ({ default: m.ListPage })));
const RecordFormPage = lazy(() => import("./pages/RecordFormPage").then((m) => ({ default: m.RecordFormPage })));
const RecordPage = lazy(() => import("./pages/RecordPage").then((m) => ({ default: m.RecordPage })));
const TrashPage = lazy(() => import("./pages/TrashPage").then((m) => ({ default: m.TrashPage })));
const HomePage = lazy(() => import("./pages/HomePage").then((m) => ({ default: m.HomePage })));
const KanbanPage = lazy(() => import("./pages/KanbanPage").then((m) => ({ default: m.KanbanPage })));
const AssignmentList = lazy(() => import("./pages/assignment/AssignmentEditor").then((m) => ({ default: m.AssignmentList })));
const AssignmentEditor = lazy(() => import("./pages/assignment/AssignmentEditor").then((m) => ({ default: m.AssignmentEditor })));
const PoolPage = lazy(() => import("./pages/PoolPage").then((m) => ({ default: m.PoolPage })));
const AdminHome = lazy(() => import("./pages/designer/AdminHome").then((m) => ({ default: m.AdminHome })));
const ObjectDesigner = lazy(() => import("./pages/designer/ObjectDesigner").then((m) => ({ default: m.ObjectDesigner })));
const FormDesigner = lazy(() => import("./pages/designer/FormDesigner").then((m) => ({ default: m.FormDesigner })));
const HistoryPage = lazy(() => import("./pages/designer/HistoryPage").then((m) => ({ default: m.HistoryPage })));
const ImportPage = lazy(() => import("./pages/admin/ImportPage").then((m) => ({ default: m.ImportPage })));
const DuplicatesPage = lazy(() => import("./pages/admin/DuplicatesPage").then((m) => ({ default: m.DuplicatesPage })));
const UsersPage = lazy(() => import("./pages/admin/UsersPage").then((m) => ({ default: m.UsersPage })));
const RolesPage = lazy(() => import("./pages/admin/RolesPage").then((m) => ({ default: m.RolesPage })));
const WorkflowList = lazy(() => import("./pages/workflows/WorkflowList").then((m) => ({ default: m.WorkflowList })));
const RunList = lazy(() => import("./pages/workflows/RunList").then((m) => ({ default: m.RunList })));
const WorkflowEditor = lazy(() => import("./pages/workflows/WorkflowEditor"));
const RunDebugger = lazy(() => import("./pages/workflows/RunDebugger"));
const ReportsPage = lazy(() => import("./pages/reports/ReportsPage").then((m) => ({ default: m.ReportsPage })));
const ReportPage = lazy(() => import("./pages/reports/ReportPage").then((m) => ({ default: m.ReportPage })));
const DashboardPage = lazy(() => import("./pages/reports/DashboardPage").then((m) => ({ default: m.DashboardPage })));
const MemberProgramPage = lazy(() => import("./pages/benefits/MemberProgramPage").then((m) => ({ default: m.MemberProgramPage })));
const BenefitsAdminPage = lazy(() => import("./pages/benefits/BenefitsAdminPage").then((m) => ({ default: m.BenefitsAdminPage })));

export function App() {
  return (
    <I18nProvider>
      <Router>
        <SessionProvider>
          <Shell />
        </SessionProvider>
      </Router>
    </I18nProvider>
  );
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="lang-switch">
      <span className="sr-only">{t("nav.language")}</span>
      <select aria-label={t("nav.language")} value={lang} onChange={(e) => setLang(e.target.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l}>{t(l === "en" ? "lang.en" : "lang.zh")}</option>
        ))}
      </select>
    </label>
  );
}

function Shell() {
  const { me, objects, loading, error, logout } = useSession();
  const { path, navigate } = useRouter();
  const { t, label } = useI18n();
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => setMenuOpen(false), [path]);  // a phone's menu closes once a page is chosen

  useEffect(() => {
    document.title = t("app.title");
  }, [t]);

  if (loading && !me) return <main className="container"><Loading /></main>;
  if (!me) {
    return (
      <>
        <header className="topbar"><span className="brand">{t("app.title")}</span><LanguageSwitch /></header>
        <main className="container">
          <ErrorMessage error={error} />
          <LoginPage />
        </main>
      </>
    );
  }
  const current = matchPath("/o/:object", path) ?? matchPath("/o/:object/*", path);
  const activeObject = current?.object ?? path.split("/")[2];

  return (
    <>
      <header className={"topbar" + (menuOpen ? " menu-open" : "")}>
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls="main-nav"
          aria-label={label(SHELL_TEXT.menu)} onClick={() => setMenuOpen(!menuOpen)}>
          <span aria-hidden="true">☰</span>
        </button>
        <Link to="/" className="brand">{t("app.title")}</Link>
        <GlobalSearch />
        <NotificationBell />
        <nav id="main-nav" aria-label={t("nav.objects")} className="nav">
          <Link to="/" className={path === "/" ? "active" : ""}>{t("nav.home")}</Link>
          {objects.map((o) => (
            <Link key={o.name} to={`/o/${o.name}`} className={path.startsWith("/o/") && activeObject === o.name ? "active" : ""}>
              {label(o.plural_label ?? o.label, o.name)}
            </Link>
          ))}
          <Link to="/pools" className={path.startsWith("/pools") ? "active" : ""}>{t("nav.pool")}</Link>
          <Link to="/reports" className={path.startsWith("/reports") || path.startsWith("/dashboards") ? "active" : ""}>{label(REPORT_TEXT.nav)}</Link>
          {me.is_admin && (
            <Link to="/designer" className={path.startsWith("/designer") ? "active" : ""}>{t("nav.designer")}</Link>
          )}
          {me.is_admin && (
            <Link to="/workflows" className={path.startsWith("/workflows") ? "active" : ""}>{t("nav.workflows")}</Link>
          )}
        </nav>
        <div className="user">
          <LanguageSwitch />
          <ProfileMenu />
          <button type="button" className="link" onClick={() => { void logout().then(() => navigate("/")); }}>
            {t("nav.logout")}
          </button>
        </div>
      </header>
      <main className="container">
        <Suspense fallback={<Loading />}>
          <Routes />
        </Suspense>
      </main>
    </>
  );
}

function Routes() {
  const { path, navigate } = useRouter();
  const { objects, me } = useSession();
  const { t } = useI18n();
  let m: Record<string, string> | null;

  if (path === "/" || path === "/login") {
    if (path === "/login") queueMicrotask(() => navigate("/", { replace: true }));
    return objects.length ? <HomePage /> : <p>{t("nav.no_objects")}</p>;
  }
  if ((m = matchPath("/o/:object", path))) return <ListPage key={m.object} object={m.object} />;
  if ((m = matchPath("/o/:object/new", path))) return <RecordFormPage key={"new" + m.object} object={m.object} />;
  if ((m = matchPath("/o/:object/kanban", path))) return <KanbanPage key={"k" + m.object} object={m.object} />;
  if ((m = matchPath("/o/:object/trash", path))) return <TrashPage key={"t" + m.object} object={m.object} />;
  if ((m = matchPath("/o/:object/:id/edit", path))) {
    return <RecordFormPage key={"e" + m.object + m.id} object={m.object} id={Number(m.id)} />;
  }
  if ((m = matchPath("/o/:object/:id", path))) return <RecordPage key={m.object + m.id} object={m.object} id={Number(m.id)} />;
  if (path === "/pools") return <PoolPage />;
  if (path === "/reports") return <ReportsPage />;
  if ((m = matchPath("/reports/:name", path))) return <ReportPage key={m.name} name={m.name} />;
  if ((m = matchPath("/dashboards/:name", path))) return <DashboardPage key={m.name} name={m.name} />;
  if ((m = matchPath("/pools/:name", path))) return <PoolPage key={m.name} name={m.name} />;
  if ((m = matchPath("/members/:id", path))) return <MemberProgramPage key={m.id} id={Number(m.id)} />;
  if (path.startsWith("/designer") && !me?.is_admin) return <AdminOnly>{null}</AdminOnly>;
  if (path === "/designer/import") return <ImportPage />;
  if (path === "/designer/duplicates") return <DuplicatesPage />;
  if (path === "/designer/users") return <UsersPage />;
  if (path === "/designer/roles") return <RolesPage />;
  if (path === "/designer/benefits") return <BenefitsAdminPage />;
  if (path === "/designer/assignments") return <AssignmentList />;
  if ((m = matchPath("/designer/assignments/:name", path))) return <AssignmentEditor key={m.name} name={m.name} />;
  if (path === "/designer") return <AdminHome />;
  if ((m = matchPath("/designer/objects/:name", path))) return <ObjectDesigner key={m.name} name={m.name} />;
  if ((m = matchPath("/designer/forms/:name", path))) return <FormDesigner key={m.name} name={m.name} />;
  if ((m = matchPath("/designer/history/:kind/:name", path))) return <HistoryPage key={m.kind + m.name} kind={m.kind} name={m.name} />;
  if (path === "/workflows") return <WorkflowList />;
  if (path === "/workflows/runs") return <RunList />;
  if ((m = matchPath("/workflows/runs/:id", path))) {
    return <Suspense fallback={<Loading />}><RunDebugger key={m.id} id={Number(m.id)} /></Suspense>;
  }
  if ((m = matchPath("/workflows/:name", path))) {
    return <Suspense fallback={<Loading />}><WorkflowEditor key={m.name} name={m.name} /></Suspense>;
  }
  return <p role="alert">{t("error.not_found")}</p>;
}
