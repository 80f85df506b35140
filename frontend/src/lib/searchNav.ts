// Keyboard navigation over grouped search results: one flat list of hits in the order shown,
// the active index moves with the arrows and wraps; Enter opens the active hit's record.
import type { SearchGroup } from "../api/shell";

export interface FlatHit {
  object: string;
  id: number;
  title: string;
  path: string;
}

export function flatten(groups: SearchGroup[]): FlatHit[] {
  return groups.flatMap((g) => g.items.map((h) => ({
    object: g.object, id: h.id, title: h.title, path: `/o/${encodeURIComponent(g.object)}/${h.id}`,
  })));
}

/** The next active index for a key (-1: none active); null when the key does not move it. */
export function moveActive(key: string, active: number, count: number): number | null {
  if (!count) return null;
  if (key === "ArrowDown") return active < 0 || active >= count - 1 ? 0 : active + 1;
  if (key === "ArrowUp") return active <= 0 ? count - 1 : active - 1;
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}

/** The hit Enter opens: the active one, else the first. */
export function chosen(hits: FlatHit[], active: number): FlatHit | null {
  return hits[active] ?? hits[0] ?? null;
}

/** Whether a typed key is the global shortcut that focuses the search box ("/" or Ctrl/Cmd+K),
 *  never while the user types into a field. */
export function isSearchShortcut(e: { key: string; ctrlKey: boolean; metaKey: boolean; target: EventTarget | null }): boolean {
  const el = e.target as HTMLElement | null;
  const typing = !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") return true;
  return e.key === "/" && !typing;
}
