import { useState, type FormEvent } from "react";
import { api, ApiError } from "../api/client";
import { useI18n } from "../i18n";
import { useSession } from "../session";

export function LoginPage() {
  const { t } = useI18n();
  const { reload } = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(username, password);
      await reload();
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 422)
        ? t("login.failed") : err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card login" onSubmit={submit} aria-labelledby="login-title">
      <h1 id="login-title">{t("login.title")}</h1>
      <label htmlFor="login-username">{t("login.username")}</label>
      <input id="login-username" name="username" autoComplete="username" value={username} required
        onChange={(e) => setUsername(e.target.value)} />
      <label htmlFor="login-password">{t("login.password")}</label>
      <input id="login-password" name="password" type="password" autoComplete="current-password" value={password}
        required onChange={(e) => setPassword(e.target.value)} />
      {error && <p className="alert alert-error" role="alert">{error}</p>}
      <button type="submit" className="primary" disabled={busy}>{t("login.submit")}</button>
    </form>
  );
}
