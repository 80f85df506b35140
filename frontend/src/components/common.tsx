// Small shared pieces: error and status messages, tag chips, a hook for async loads.
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { api, ApiError } from "../api/client";
import type { Label, ProblemItem, UserSummary } from "../api/types";
import { useI18n } from "../i18n";

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): {
  data: T | null; error: unknown; loading: boolean; reload: () => void; setData: (d: T) => void;
} {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    run().then((d) => { if (live) setData(d); }, (e: unknown) => { if (live) setError(e); })
      .finally(() => { if (live) setLoading(false); });
    return () => { live = false; };
  }, [run, tick]);
  return { data, error, loading, reload: () => setTick((t) => t + 1), setData };
}

export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useI18n();
  if (!error) return null;
  let title = error instanceof Error ? error.message : String(error);
  let problems: ProblemItem[] = [];
  if (error instanceof ApiError) {
    if (error.status === 0) title = t("error.network");
    else if (error.status === 403) title = t("error.forbidden");
    else if (error.status === 404) title = t("error.not_found");
    problems = error.problems;
  }
  return (
    <div className="alert alert-error" role="alert">
      <strong>{title}</strong>
      {problems.length > 0 && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              {p.field ? <code>{p.field}</code> : null} {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return <p className="muted" role="status">{t("common.loading")}</p>;
}

export interface TagInfo {
  label?: Label;
  color?: string;
}

let tagInfo: Promise<Record<string, TagInfo>> | null = null;

/** Tag labels and colours, read once per page load (tags are few; names are their keys). */
export function useTagInfo(): Record<string, TagInfo> {
  const [info, setInfo] = useState<Record<string, TagInfo>>({});
  useEffect(() => {
    tagInfo ??= Promise.resolve().then(() => api.definitions("tag")).then(
      (docs) => Object.fromEntries(docs.map((d) => [String(d.name), { label: d.label as Label, color: d.color as string }])),
      () => ({}));
    let live = true;
    void tagInfo.then((v) => { if (live) setInfo(v); });
    return () => { live = false; };
  }, []);
  return info;
}

export function resetTagInfo(): void {
  tagInfo = null;
}

export function TagChips({ tags, onRemove }: { tags: string[]; onRemove?: (tag: string) => void }) {
  const { t, label } = useI18n();
  const info = useTagInfo();
  if (!tags.length) return null;
  return (
    <span className="chips">
      {tags.map((tag) => {
        const text = label(info[tag]?.label, tag);
        const color = info[tag]?.color;
        return (
          <span className="chip" key={tag} data-tag={tag} title={tag}
            style={color && /^#[0-9a-fA-F]{6}$/.test(color) ? { borderColor: color, background: color + "22" } : undefined}>
            {text}
            {onRemove && (
              <button type="button" className="chip-x" aria-label={t("tags.remove", { tag: text })} onClick={() => onRemove(tag)}>
                ×
              </button>
            )}
          </span>
        );
      })}
    </span>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children && <div className="actions">{children}</div>}
    </div>
  );
}

/** A value as text: user data is never interpreted as markup (React escapes it). */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => displayValue(v)).join(", ");
  if (typeof value === "boolean") return value ? "✓" : "✗";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

let userDirectory: Promise<UserSummary[]> | null = null;

/** The user directory (owner pickers, "who changed what"), read once per page load. */
export function useUsers(): UserSummary[] {
  const [users, setUsers] = useState<UserSummary[]>([]);
  useEffect(() => {
    userDirectory ??= Promise.resolve().then(() => api.users()).catch(() => []);
    let live = true;
    void userDirectory.then((u) => { if (live) setUsers(u); });
    return () => { live = false; };
  }, []);
  return users;
}

export function userName(users: UserSummary[], id: unknown): string {
  if (id === null || id === undefined || id === "") return "";
  const found = users.find((u) => u.id === Number(id));
  return found ? found.display_name || found.username : "#" + String(id);
}
