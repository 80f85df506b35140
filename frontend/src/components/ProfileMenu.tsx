// The user's own settings, under their name in the top bar: the time zone every time is shown and
// entered in (saved on the server, so reminders and notifications use it too).
import { useState } from "react";
import { api } from "../api/client";
import { useI18n } from "../i18n";
import { browserTimeZone, formatDateTime, timeZoneNames } from "../lib/format";
import { useSession } from "../session";
import { ErrorMessage } from "./common";

export function ZoneSelect({ id, value, onChange, automatic }: {
  id: string; value: string | null | undefined; onChange: (zone: string | null) => void; automatic: string;
}) {
  const names = timeZoneNames();
  const current = value ?? "";
  return (
    <select id={id} value={current} onChange={(e) => onChange(e.target.value || null)}>
      <option value="">{automatic}</option>
      {current && !names.includes(current) && <option value={current}>{current}</option>}
      {names.map((z) => <option key={z} value={z}>{z.replace(/_/g, " ")}</option>)}
    </select>
  );
}

export function ProfileMenu() {
  const { me, replaceMe } = useSession();
  const { t, lang } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  if (!me) return null;

  async function setZone(zone: string | null) {
    setError(null);
    setSaved(false);
    try {
      replaceMe(await api.updateMe({ time_zone: zone }));
      setSaved(true);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <details className="profile-menu">
      <summary className="muted user-name" title={t("profile.menu")}>{me.display_name || me.username}</summary>
      <div className="profile-panel card">
        <label htmlFor="profile-zone">{t("profile.time_zone")}</label>
        <ZoneSelect id="profile-zone" value={me.time_zone} onChange={(z) => void setZone(z)}
          automatic={t("profile.zone_auto", { zone: browserTimeZone() })} />
        <p className="muted small" data-testid="zone-now">
          {t("profile.zone_now", { time: formatDateTime(new Date().toISOString(), lang) })}
        </p>
        {saved && <p className="small" role="status">{t("profile.saved")}</p>}
        <ErrorMessage error={error} />
      </div>
    </details>
  );
}
