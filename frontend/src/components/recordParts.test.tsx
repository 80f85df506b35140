import { describe, expect, it } from "vitest";
import type { ObjectDetail } from "../api/types";
import { withOwner } from "../pages/ListPage";
import { activityDefaults, activityLink } from "./ActivityPanel";
import { initialChoices } from "./ConvertDialog";
import { rankTags } from "./TagBox";

const pick = (l: unknown, f = "") => (l && typeof l === "object" ? (l as Record<string, string>).zh ?? f : f);

describe("record page parts", () => {
  it("links an activity to the record through the activity's relation to its object", () => {
    const activity = { name: "activity", label: "A", schema: {}, forms: [], fields: [
      { name: "lead", type: "relation", target: "lead", label: "L" },
      { name: "customer", type: "relation", target: "customer", label: "C" }] } as unknown as ObjectDetail;
    expect(activityLink(activity, "customer")).toBe("customer");
    expect(activityLink(activity, "channel")).toBeNull();
  });

  it("starts a logged call done and now, a task open, due tomorrow 09:00 with a reminder an hour before", () => {
    const now = new Date(2026, 11, 3, 14, 30, 45);
    const call = activityDefaults("call", "lead", 7, now);
    expect(call).toMatchObject({ type: "call", lead: 7, done: true });
    expect(new Date(String(call.due_at)).getSeconds()).toBe(0);
    const task = activityDefaults("task", "lead", 7, now);
    const due = new Date(String(task.due_at));
    expect([due.getDate(), due.getHours(), due.getMinutes()]).toEqual([4, 9, 0]);
    expect(Date.parse(String(task.remind_at))).toBe(due.getTime() - 3600_000);
    expect(task.done).toBe(false);
  });

  it("means 09:00 on the user's clock by 'due tomorrow 09:00', whatever the browser's zone", () => {
    const now = new Date("2026-12-03T20:30:00Z");
    expect(activityDefaults("task", "lead", 7, now, "Asia/Shanghai").due_at).toBe("2026-12-05T01:00:00.000Z");
    expect(activityDefaults("task", "lead", 7, now, "Europe/London").due_at).toBe("2026-12-04T09:00:00.000Z");
    expect(activityDefaults("task", "lead", 7, now, "Europe/London").remind_at).toBe("2026-12-04T08:00:00.000Z");
  });

  it("suggests tags by label in the user's language, those starting with the text first, not ones the record has", () => {
    const items = [
      { name: "vip", label: { en: "VIP", zh: "重要客户" } },
      { name: "hot_lead", label: { en: "Hot lead", zh: "客户意向强" } },
      { name: "new_customer", label: { en: "New customer", zh: "新客户" } },
    ];
    expect(rankTags(items, "客户", [], pick).map((t) => t.name)).toEqual(["hot_lead", "new_customer", "vip"]);
    expect(rankTags(items, "客户", ["hot_lead"], pick).map((t) => t.name)).toEqual(["new_customer", "vip"]);
  });

  it("converts with required targets on and optional ones at their default", () => {
    const info = { name: "lead", label: "x", targets: [
      { key: "account", object: "account", label: "A", optional: true, default: false, fields: {} },
      { key: "customer", object: "customer", label: "C", optional: false, default: true, fields: {} }] };
    expect(initialChoices(info)).toEqual({ account: false, customer: true });
  });

  it("adds 'owned by me' to the list filter", () => {
    const rule = { field: "city", op: "eq", value: "shanghai" };
    expect(withOwner(rule, "anyone", 2)).toBe(rule);
    expect(withOwner(null, "mine", 2)).toEqual({ field: "owner_id", op: "eq", value: 2 });
    expect(withOwner(rule, "mine", 2)).toEqual({ all: [rule, { field: "owner_id", op: "eq", value: 2 }] });
  });
});
