// The admin pages' frame: a "not allowed" page for everyone else, and the links between the admin pages.
import type { ReactNode } from "react";
import { useI18n } from "../../i18n";
import { Link, useRouter } from "../../lib/router";
import { useSession } from "../../session";

export function AdminOnly({ children }: { children: ReactNode }) {
  const { me } = useSession();
  const { t } = useI18n();
  if (!me?.is_admin) {
    return (
      <div className="page" role="alert" data-testid="not-allowed">
        <h1>{t("adm.not_allowed")}</h1>
        <p>{t("adm.not_allowed_text")}</p>
        <Link to="/">{t("nav.home")}</Link>
      </div>
    );
  }
  return <>{children}</>;
}

const PAGES = [
  ["/designer", "adm.nav_designer"],
  ["/designer/import", "adm.nav_import"],
  ["/designer/duplicates", "adm.nav_duplicates"],
  ["/designer/users", "adm.nav_users"],
  ["/designer/roles", "adm.nav_roles"],
  ["/designer/assignments", "nav.assignments"],
  ["/designer/benefits", "adm.nav_benefits"],
] as const;

export function AdminNav() {
  const { t } = useI18n();
  const { path } = useRouter();
  return (
    <nav className="tabs admin-nav" aria-label={t("adm.nav")} style={{ flexWrap: "wrap" }}>
      {PAGES.map(([to, key]) => (
        <Link key={to} to={to} className={path === to ? "active" : ""}>{t(key)}</Link>
      ))}
    </nav>
  );
}
