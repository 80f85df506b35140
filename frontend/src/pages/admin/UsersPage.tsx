// Users and teams: create a user (a one-time password shown once, or one set by the admin), assign roles
// and teams, deactivate and reactivate, reset a password.
import { useState } from "react";
import { adminApi, type AdminUser, type Role, type Team } from "../../api/admin";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { ZoneSelect } from "../../components/ProfileMenu";
import { useI18n } from "../../i18n";
import { AdminOnly, AdminNav } from "./AdminOnly";

export function UsersPage() {
  return <AdminOnly><UsersBody /></AdminOnly>;
}

function Checks({ names, chosen, onChange, legend }: { names: string[]; chosen: string[]; onChange: (v: string[]) => void; legend: string }) {
  return (
    <fieldset className="row" style={{ flexWrap: "wrap" }}>
      <legend>{legend}</legend>
      {names.map((n) => (
        <label key={n}>
          <input type="checkbox" checked={chosen.includes(n)}
            onChange={(e) => onChange(e.target.checked ? [...chosen, n] : chosen.filter((x) => x !== n))} /> {n}
        </label>
      ))}
    </fieldset>
  );
}

function UsersBody() {
  const { t } = useI18n();
  const [tick, setTick] = useState(0);
  const users = useLoad(() => adminApi.users(), [tick]);
  const roles = useLoad(() => adminApi.roles(), []);
  const teams = useLoad(() => adminApi.teams(), [tick]);
  const [error, setError] = useState<unknown>(null);
  const [secret, setSecret] = useState<{ user: string; password: string } | null>(null);
  const refresh = () => setTick((x) => x + 1);

  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    setError(null);
    try {
      const out = await action();
      refresh();
      return out;
    } catch (e) {
      setError(e);
      return undefined;
    }
  }

  if (users.error) return <ErrorMessage error={users.error} />;
  if (!users.data || !roles.data || !teams.data) return <Loading />;
  const roleNames = roles.data.map((r: Role) => r.name);
  const teamNames = teams.data.map((x: Team) => x.name);
  return (
    <div className="page">
      <PageHeader title={t("usr.title")} />
      <AdminNav />
      <ErrorMessage error={error} />
      {secret && (
        <div className="alert alert-ok" role="status" data-testid="one-time-password">
          {t("usr.password_once", { user: secret.user })} <code>{secret.password}</code>
          <button type="button" className="link" onClick={() => setSecret(null)}>{t("usr.hide")}</button>
        </div>
      )}
      <NewUser roles={roleNames} teams={teamNames} onCreate={async (body) => {
        const u = await run(() => adminApi.createUser(body));
        if (u?.password) setSecret({ user: u.username, password: u.password });
        return !!u;
      }} />
      <NewTeam onCreate={(name, label) => run(() => adminApi.createTeam(name, label))} />
      <h2>{t("usr.list")}</h2>
      <table className="records">
        <thead>
          <tr><th>{t("usr.username")}</th><th>{t("usr.roles")}</th><th>{t("usr.teams")}</th><th>{t("usr.time_zone")}</th><th>{t("usr.status")}</th><th>{t("admin.actions")}</th></tr>
        </thead>
        <tbody>
          {users.data.map((u: AdminUser) => (
            <tr key={u.id} data-user={u.username}>
              <td data-label={t("usr.username")}><strong>{u.username}</strong> <span className="muted">{u.display_name}</span>{u.is_admin && <> · {t("usr.admin")}</>}</td>
              <td data-label={t("usr.roles")}>
                <Checks legend={t("usr.roles")} names={roleNames} chosen={u.roles} onChange={(v) => void run(() => adminApi.updateUser(u.id, { roles: v }))} />
              </td>
              <td data-label={t("usr.teams")}>
                <Checks legend={t("usr.teams")} names={teamNames} chosen={u.teams} onChange={(v) => void run(() => adminApi.updateUser(u.id, { teams: v }))} />
              </td>
              <td data-label={t("usr.time_zone")}>
                <ZoneSelect id={`zone-${u.id}`} value={u.time_zone} automatic={t("usr.zone_default")}
                  onChange={(z) => void run(() => adminApi.updateUser(u.id, { time_zone: z }))} />
              </td>
              <td data-label={t("usr.status")}>{u.active ? t("usr.active") : t("usr.inactive")}</td>
              <td data-label={t("admin.actions")} className="row">
                <button type="button" onClick={() => void run(() => adminApi.updateUser(u.id, { active: !u.active }))}>
                  {u.active ? t("usr.deactivate") : t("usr.activate")}
                </button>
                <button type="button" onClick={() => void run(() => adminApi.resetPassword(u.id)).then((r) => {
                  if (r?.password) setSecret({ user: u.username, password: r.password });
                })}>{t("usr.reset")}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NewUser({ roles, teams, onCreate }: {
  roles: string[]; teams: string[]; onCreate: (body: Partial<AdminUser> & { password?: string }) => Promise<boolean>;
}) {
  const { t } = useI18n();
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [language, setLanguage] = useState("zh");
  const [zone, setZone] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [chosenTeams, setChosenTeams] = useState<string[]>([]);
  return (
    <form className="card" aria-label={t("usr.new")} onSubmit={(e) => {
      e.preventDefault();
      void onCreate({ username, display_name: displayName, password: password || undefined, language, time_zone: zone, roles: chosen, teams: chosenTeams })
        .then((ok) => { if (ok) { setUsername(""); setDisplayName(""); setPassword(""); setChosen([]); setChosenTeams([]); } });
    }}>
      <h2>{t("usr.new")}</h2>
      <div className="form-grid">
        <label>{t("usr.username")}<input required value={username} onChange={(e) => setUsername(e.target.value.trim())} /></label>
        <label>{t("usr.display_name")}<input value={displayName} onChange={(e) => setDisplayName(e.target.value)} /></label>
        <label>{t("usr.password")}<input type="password" autoComplete="new-password" value={password} placeholder={t("usr.password_hint")}
          onChange={(e) => setPassword(e.target.value)} /></label>
        <label>{t("nav.language")}
          <select value={language} onChange={(e) => setLanguage(e.target.value)}>
            <option value="zh">{t("lang.zh")}</option><option value="en">{t("lang.en")}</option>
          </select>
        </label>
        <label>{t("usr.time_zone")}
          <ZoneSelect id="new-user-zone" value={zone} onChange={setZone} automatic={t("usr.zone_default")} />
        </label>
      </div>
      <Checks legend={t("usr.roles")} names={roles} chosen={chosen} onChange={setChosen} />
      {teams.length > 0 && <Checks legend={t("usr.teams")} names={teams} chosen={chosenTeams} onChange={setChosenTeams} />}
      <button type="submit" className="primary">{t("usr.create")}</button>
    </form>
  );
}

function NewTeam({ onCreate }: { onCreate: (name: string, label: string) => Promise<unknown> }) {
  const { t } = useI18n();
  const [name, setName] = useState("");
  const [label, setLabel] = useState("");
  return (
    <form className="row" aria-label={t("usr.new_team")} onSubmit={(e) => { e.preventDefault(); void onCreate(name, label).then(() => { setName(""); setLabel(""); }); }}>
      <input aria-label={t("usr.team_name")} placeholder={t("usr.team_name")} value={name} onChange={(e) => setName(e.target.value)} required />
      <input aria-label={t("usr.team_label")} placeholder={t("usr.team_label")} value={label} onChange={(e) => setLabel(e.target.value)} />
      <button type="submit">{t("usr.new_team")}</button>
    </form>
  );
}
