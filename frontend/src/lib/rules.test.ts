// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { Rule } from "../api/types";
import { leadDetail } from "../test/fixtures";
import { castValue, defaultValue, fromRule, toRule, updateNode, valueShape, type GroupNode } from "./rules";

const fields = leadDetail().fields;

describe("rule builder model", () => {
  it("round-trips nested rules of the contract", () => {
    const rule: Rule = {
      all: [
        { field: "city", op: "in", value: ["shanghai", "beijing"] },
        { field: "score", op: "gt", value: 70 },
        { op: "has_tag", value: "vip" },
        { not: { any: [{ field: "name", op: "is_empty" }, { field: "created_at", op: "within_last", value: { amount: 30, unit: "day" } }] } },
        { related: { object: "activity", via: "lead" }, agg: "exists" },
      ],
    };
    expect(toRule(fromRule(rule), fields)).toEqual(rule);
  });

  it("drops empty groups and gives null for no conditions", () => {
    const root = fromRule({ all: [{ any: [] }] } as unknown as Rule);
    expect(toRule(root, fields)).toBeNull();
    expect(toRule(fromRule(null), fields)).toBeNull();
  });

  it("wraps a single condition in a group and casts numbers", () => {
    const root = fromRule({ field: "score", op: "between", value: ["10", "20"] });
    expect(root.kind).toBe("group");
    expect(toRule(root, fields)).toEqual({ all: [{ field: "score", op: "between", value: [10, 20] }] });
    expect(castValue(fields[3], "7")).toBe(7);
    expect(castValue(fields[0], "7")).toBe("7");
  });

  it("shapes the value by operator", () => {
    expect(valueShape("is_empty")).toBe("none");
    expect(valueShape("in")).toBe("list");
    expect(valueShape("between")).toBe("range");
    expect(valueShape("within_next")).toBe("relative");
    expect(valueShape("on_weekday")).toBe("weekdays");
    expect(defaultValue("in", "shanghai")).toEqual(["shanghai"]);
    expect(defaultValue("eq", ["a", "b"])).toBe("a");
    expect(defaultValue("within_last")).toEqual({ amount: 30, unit: "day" });
    expect(defaultValue("this_month", "x")).toBeUndefined();
  });

  it("updates and removes nodes immutably", () => {
    const root = fromRule({ all: [{ field: "name", op: "eq", value: "a" }, { field: "city", op: "eq", value: "beijing" }] });
    const first = root.children[0];
    const changed = updateNode(root, first.id, (n) => ({ ...n, value: "b" } as typeof n));
    expect(toRule(changed, fields)).toEqual({ all: [{ field: "name", op: "eq", value: "b" }, { field: "city", op: "eq", value: "beijing" }] });
    const removed: GroupNode = updateNode(root, first.id, () => null);
    expect(removed.children).toHaveLength(1);
    expect(toRule(root, fields)).toEqual({ all: [{ field: "name", op: "eq", value: "a" }, { field: "city", op: "eq", value: "beijing" }] });
  });
});
