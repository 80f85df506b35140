import { describe, expect, it } from "vitest";
import { chosen, flatten, isSearchShortcut, moveActive } from "./searchNav";
import { cleanPath } from "./router";

const groups = [
  { object: "lead", label: { en: "Leads" }, items: [{ id: 3, title: "Wang Lei" }, { id: 9, title: "Wang Fang" }] },
  { object: "account", label: { en: "Accounts" }, items: [{ id: 4, title: "Wanda Ltd" }] },
];

describe("global search keyboard navigation", () => {
  it("flattens groups in the order shown with record paths", () => {
    expect(flatten(groups).map((h) => h.path)).toEqual(["/o/lead/3", "/o/lead/9", "/o/account/4"]);
  });
  it("moves down and up with wrap-around, Home and End", () => {
    expect(moveActive("ArrowDown", -1, 3)).toBe(0);
    expect(moveActive("ArrowDown", 1, 3)).toBe(2);
    expect(moveActive("ArrowDown", 2, 3)).toBe(0);
    expect(moveActive("ArrowUp", 0, 3)).toBe(2);
    expect(moveActive("ArrowUp", -1, 3)).toBe(2);
    expect(moveActive("End", 0, 3)).toBe(2);
    expect(moveActive("Home", 2, 3)).toBe(0);
    expect(moveActive("a", 1, 3)).toBeNull();
    expect(moveActive("ArrowDown", -1, 0)).toBeNull();
  });
  it("Enter opens the active hit, else the first, else nothing", () => {
    const hits = flatten(groups);
    expect(chosen(hits, 2)?.path).toBe("/o/account/4");
    expect(chosen(hits, -1)?.path).toBe("/o/lead/3");
    expect(chosen([], -1)).toBeNull();
  });
  it("'/' focuses search unless typing in a field; Ctrl+K always", () => {
    const div = document.createElement("div");
    const input = document.createElement("input");
    expect(isSearchShortcut({ key: "/", ctrlKey: false, metaKey: false, target: div })).toBe(true);
    expect(isSearchShortcut({ key: "/", ctrlKey: false, metaKey: false, target: input })).toBe(false);
    expect(isSearchShortcut({ key: "k", ctrlKey: true, metaKey: false, target: input })).toBe(true);
    expect(isSearchShortcut({ key: "k", ctrlKey: false, metaKey: false, target: div })).toBe(false);
  });
  it("collapses repeated slashes in paths", () => {
    expect(cleanPath("//o/lead")).toBe("/o/lead");
    expect(cleanPath("/")).toBe("/");
    expect(cleanPath("/o//lead/3")).toBe("/o/lead/3");
  });
});
