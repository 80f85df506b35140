// Saved list views (columns, sort, filter) live on the server per user (GET/POST/PUT/DELETE /views);
// views an older version kept in this browser's localStorage are uploaded once, then removed.
import type { Rule } from "../api/types";

export interface SavedView {
  name: string;
  columns: string[];
  sort: string;
  rule: Rule | null;
}

const key = (object: string) => `metacrm.views.${object}`;

/** Views still kept in this browser (from before views moved to the server). */
export function loadViews(object: string): SavedView[] {
  try {
    const raw = JSON.parse(localStorage.getItem(key(object)) ?? "[]") as unknown;
    return Array.isArray(raw) ? (raw as SavedView[]).filter((v) => v && typeof v.name === "string") : [];
  } catch {
    return [];
  }
}

export function saveView(object: string, view: SavedView): SavedView[] {
  const views = [...loadViews(object).filter((v) => v.name !== view.name), view];
  localStorage.setItem(key(object), JSON.stringify(views));
  return views;
}

export function deleteView(object: string, name: string): SavedView[] {
  const views = loadViews(object).filter((v) => v.name !== name);
  localStorage.setItem(key(object), JSON.stringify(views));
  return views;
}

/** Upload this browser's views of an object to the server once (names already there are kept as
 *  they are), then forget them locally. A view the server refuses (e.g. a field since hidden) is
 *  dropped; a network failure keeps them all for the next try. Returns how many were uploaded. */
export async function migrateLocalViews(
  object: string,
  existing: string[],
  create: (view: { object: string; name: string; columns: string[]; sort: string | null; filter: Rule | null }) => Promise<unknown>,
): Promise<number> {
  const local = loadViews(object);
  if (!local.length) return 0;
  let uploaded = 0;
  for (const v of local) {
    if (existing.includes(v.name)) continue;
    try {
      await create({ object, name: v.name, columns: v.columns, sort: v.sort || null, filter: v.rule });
      uploaded += 1;
    } catch (e) {
      if ((e as { status?: number }).status === 0) return uploaded;  // offline: try again next time
    }
  }
  localStorage.removeItem(key(object));
  return uploaded;
}
