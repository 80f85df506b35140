// Who is logged in and which objects they may read; loaded once from /me and /objects.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, ApiError } from "./api/client";
import type { Me, ObjectSummary } from "./api/types";
import { normalizeLanguage, useI18n } from "./i18n";
import { setUserTimeZone } from "./lib/format";

interface SessionValue {
  me: Me | null;
  objects: ObjectSummary[];
  loading: boolean;
  error: string | null;
  reload: () => Promise<void>;
  /** After a profile change (PATCH /me): the new me, its zone applied to every time shown. */
  replaceMe: (me: Me) => void;
  logout: () => Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const { setLang } = useI18n();
  const [me, setMe] = useState<Me | null>(null);
  const [objects, setObjects] = useState<ObjectSummary[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    setLoading(true);
    setError(null);
    if (!api.hasSession()) {
      // Never logged in here: show the login form without a request that can only answer 401.
      setMe(null);
      setLoading(false);
      return;
    }
    try {
      const who = await api.me();
      setUserTimeZone(who.time_zone);  // before the first render that shows a time
      setMe(who);
      if (!localStorage.getItem("metacrm.lang") && who.language) setLang(normalizeLanguage(who.language));
      setObjects(await api.objects());
    } catch (e) {
      setMe(null);
      setUserTimeZone(null);
      setObjects([]);
      if (!(e instanceof ApiError && (e.status === 401 || e.status === 403))) {
        setError(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setLoading(false);
    }
  }, [setLang]);

  const replaceMe = useCallback((next: Me) => {
    setUserTimeZone(next.time_zone);
    setMe((old) => (old ? { ...old, ...next, permissions: old.permissions, csrf_token: old.csrf_token } : next));
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setMe(null);
      setUserTimeZone(null);
      setObjects([]);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <SessionContext.Provider value={{ me, objects, loading, error, reload, replaceMe, logout }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
