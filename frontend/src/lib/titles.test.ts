import { describe, expect, it } from "vitest";
import type { FieldInfo } from "../api/types";
import { mergeTitles, mergeWanted, titleIn, wantedTitles } from "./titles";
import { changedNames, mergeTimeline, timelineTitleIds } from "./timeline";

const fields: FieldInfo[] = [
  { name: "account", type: "relation", target: "account", label: "A" },
  { name: "customer", type: "relation", target: "customer", label: "C" },
  { name: "name", type: "text", label: "N" },
];

describe("titles", () => {
  it("collects the relation ids and owners of a page, unique and sorted, one map for one request", () => {
    const rows = [{ id: 1, account: 4, customer: null, owner_id: 2 }, { id: 2, account: 3, customer: 9, owner_id: 2 },
      { id: 3, account: 4, owner_id: null }];
    expect(wantedTitles(fields, rows)).toEqual({ account: [3, 4], user: [2], customer: [9] });
    expect(wantedTitles(fields, rows, false)).toEqual({ account: [3, 4], customer: [9] });
    expect(mergeWanted({ user: [2, 1] }, { user: [2, 5], lead: [1] })).toEqual({ lead: [1], user: [1, 2, 5] });
  });

  it("finds a title by target and id, merging answers", () => {
    const t = mergeTitles({ account: { "4": { title: "Acme", subtitle: null } } }, { user: { "2": { title: "张伟", subtitle: null } } });
    expect(titleIn(t, "account", 4)).toBe("Acme");
    expect(titleIn(t, "user", "2")).toBe("张伟");
    expect(titleIn(t, "account", 5)).toBeUndefined();
  });
});

describe("timeline", () => {
  const events = [
    { id: 1, kind: "create", at: "2026-12-01T08:00:00Z", actor_id: 7, changes: { after: { name: "x", account: 4, owner_id: 2, version: 1 } } },
    { id: 2, kind: "converted", at: "2026-12-03T08:00:00Z", actor_id: 2, changes: { after: { to: { object: "customer", id: 12 } } } },
  ];
  const activities = [{ id: 5, type: "call", due_at: "2026-12-02T08:00:00Z", owner_id: 3 }];

  it("merges activities and events newest first, filtered by kind", () => {
    expect(mergeTimeline(events, activities).map((e) => e.key)).toEqual(["e2", "a5", "e1"]);
    expect(mergeTimeline(events, activities, "activities").map((e) => e.key)).toEqual(["a5"]);
    expect(mergeTimeline(events, activities, "changes").map((e) => e.key)).toEqual(["e2", "e1"]);
  });

  it("leaves bookkeeping out of the changes and asks names for every id it shows", () => {
    expect(changedNames(events[0])).toEqual(["name", "account", "owner_id"]);
    expect(timelineTitleIds(events, activities, new Map([["account", "account"]])))
      .toEqual({ user: [2, 3, 7], account: [4], customer: [12] });
  });
});
