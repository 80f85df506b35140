// Personal list views (columns, sort, filter) kept in the browser per object; shared views are
// segments, stored on the server as definitions.
import type { Rule } from "../api/types";

export interface SavedView {
  name: string;
  columns: string[];
  sort: string;
  rule: Rule | null;
}

const key = (object: string) => `metacrm.views.${object}`;

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
