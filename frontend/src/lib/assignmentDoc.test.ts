import { describe, expect, it } from "vitest";
import { docWithEntries, entryFromJson, entryToJson, move } from "./assignmentDoc";

const fields = [{ name: "city", type: "select", label: { en: "City" }, options: ["shanghai", "beijing"] }];
const routing = {
  name: "by_region", strategy: "territory",
  territories: [{ name: "east", when: { field: "city", op: "in", value: ["shanghai"] }, team: "east_sales" }],
  capacity: { per_day: 200 }, fallback: { team: "sales" },
};

describe("assignment documents", () => {
  it("round-trips the standard pack's entry unchanged", () => {
    expect(entryToJson(entryFromJson(routing), fields)).toEqual(routing);
  });

  it("writes only the keys the chosen strategy reads", () => {
    const entry = { ...entryFromJson(routing), strategy: "weighted" as const, weights: { "zhang.wei": 2, "john.smith": 1 } };
    const json = entryToJson(entry, fields);
    expect(json.territories).toBeUndefined();
    expect(json.weights).toEqual({ "zhang.wei": 2, "john.smith": 1 });
    expect(json.capacity).toEqual({ per_day: 200 });
  });

  it("keeps a rule unless 'every record' is chosen, and users win over a team", () => {
    const entry = entryFromJson({ strategy: "round_robin", when: { field: "city", op: "eq", value: "beijing" }, team: "sales" });
    expect(entryToJson(entry, fields)).toEqual({ strategy: "round_robin", when: { field: "city", op: "eq", value: "beijing" }, team: "sales" });
    expect(entryToJson({ ...entry, everyRecord: true, users: ["li.na"] }, fields)).toEqual({ strategy: "round_robin", users: ["li.na"] });
  });

  it("keeps the document's other keys and reorders entries", () => {
    const doc = docWithEntries({ name: "r", label: { en: "R" }, object: "lead", description: { en: "d" } },
      [entryFromJson(routing)], fields, false);
    expect(doc).toMatchObject({ name: "r", description: { en: "d" }, on_create: false, entries: [routing] });
    expect(move([1, 2, 3], 0, 1)).toEqual([2, 1, 3]);
    expect(move([1, 2, 3], 0, -1)).toEqual([1, 2, 3]);
  });
});
