// Recently viewed records, kept in this browser (per user) for the home page.
export interface RecentRecord {
  object: string;
  id: number;
  title: string;
  at: number;
}

const key = (user: number) => `metacrm.recent.${user}`;
const MAX = 10;

export function loadRecent(user: number): RecentRecord[] {
  try {
    const raw = JSON.parse(localStorage.getItem(key(user)) ?? "[]") as unknown;
    return Array.isArray(raw) ? (raw as RecentRecord[]).filter((r) => r && typeof r.object === "string") : [];
  } catch {
    return [];
  }
}

/** Put a record first in the list (once), keeping the newest MAX. */
export function rememberRecent(user: number, record: Omit<RecentRecord, "at">): RecentRecord[] {
  const rest = loadRecent(user).filter((r) => !(r.object === record.object && r.id === record.id));
  const next = [{ ...record, at: Date.now() }, ...rest].slice(0, MAX);
  localStorage.setItem(key(user), JSON.stringify(next));
  return next;
}
