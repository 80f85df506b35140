import { describe, expect, it } from "vitest";
import {
  History, TRIGGER_NODE, addStep, argsOf, duplicate, edgesOf, exitsOf, localProblems, moveSteps, placeProblems, reconnect,
  removeSteps, pruneEmpty, setArgs, setExit, setSetting, setTrigger, triggerEdge, triggerKeys, triggerPosition, type WorkflowDoc,
} from "./workflowGraph";
import { TRIGGER } from "../pages/workflows/fixtures";

// The walkthrough's workflow: new lead -> if score > 50 assign, else wait 2 days -> email.
function lead(): WorkflowDoc {
  return {
    name: "lead_flow", object: "lead", trigger: { type: "record_created" },
    steps: [
      { id: "hot", type: "branch", rule: { field: "score", op: "gt", value: 50 }, then: "assign", else: "wait" },
      { id: "assign", type: "assign_owner", strategy: "round_robin", next: "email" },
      { id: "wait", type: "wait", duration: { amount: 2, unit: "day" } },
      { id: "email", type: "send_message", channel: "email", body: "Hi" },
      { id: "done", type: "end" },
    ],
  };
}

describe("definition -> graph", () => {
  it("draws explicit links, branch exits and implicit fall-through to the following step", () => {
    const edges = edgesOf(lead()).map((e) => `${e.source}:${e.sourceHandle}>${e.target}${e.implicit ? "*" : ""}`);
    expect(edges).toEqual(["hot:then>assign", "hot:else>wait", "assign:next>email", "wait:next>email*", "email:next>done*"]);
  });
  it("gives switch cases, split arms and foreach body their own handles", () => {
    const doc: WorkflowDoc = { name: "x", steps: [
      { id: "s", kind: "switch", cases: [{ rule: {}, next: "a" }, { rule: {}, next: "b" }], default: "c" },
      { id: "p", kind: "split", arms: [{ name: "A", weight: 50, next: "a" }, { name: "B", weight: 50 }] },
      { id: "f", kind: "foreach", items: "x", max: 10, body: "a", next: "c" },
      { id: "a", type: "end" }, { id: "b", type: "end" }, { id: "c", type: "end" },
    ] };
    expect(exitsOf(doc, 0).map((e) => `${e.handle}>${e.target}`)).toEqual(["case:0>a", "case:1>b", "default>c"]);
    expect(exitsOf(doc, 1).map((e) => `${e.handle}>${e.target}`)).toEqual(["arm:0>a", "arm:1>null"]);
    expect(exitsOf(doc, 2).map((e) => e.handle)).toEqual(["body", "next"]);
    expect(exitsOf(doc, 3)).toEqual([]);
  });
  it("edits a form's arguments without touching links", () => {
    const doc = setArgs(lead(), "assign", { strategy: "load" });
    expect(doc.steps[1]).toEqual({ id: "assign", type: "assign_owner", strategy: "load", next: "email" });
    expect(argsOf(doc.steps[0])).toEqual({ rule: { field: "score", op: "gt", value: 50 } });
    // "body" is a message's text, a link only on foreach
    expect(argsOf({ id: "m", type: "send_message", body: "Hi", next: "x" })).toEqual({ body: "Hi" });
    expect(argsOf({ id: "f", kind: "foreach", body: "a", items: "x" })).toEqual({ items: "x" });
    expect(setArgs({ name: "x", steps: [{ id: "m", type: "send_message", body: "Hi", next: "x" }] }, "m", { body: "Yo" }).steps[0])
      .toEqual({ id: "m", type: "send_message", body: "Yo", next: "x" });
  });
});

describe("editing", () => {
  it("re-points the else branch without deleting any node", () => {
    const before = lead();
    const after = reconnect(before, { source: "hot", sourceHandle: "else" }, { source: "hot", sourceHandle: "else", target: "email" });
    expect(after.steps.map((s) => s.id)).toEqual(before.steps.map((s) => s.id));
    expect(after.steps[0].else).toBe("email");
    expect(after.steps[0].then).toBe("assign");
    expect(before.steps[0].else).toBe("wait"); // pure: the old definition is untouched
  });
  it("moves an edge to another exit, unlinking the old one", () => {
    const after = reconnect(lead(), { source: "hot", sourceHandle: "else" }, { source: "assign", sourceHandle: "next", target: "wait" });
    expect(after.steps[0].else).toBeUndefined();
    expect(after.steps[1].next).toBe("wait");
    expect(localProblems(after)).toContainEqual(expect.objectContaining({ node: "hot", code: "missing_branch" }));
  });
  it("adding a step pins implicit links so nothing else changes its meaning", () => {
    const { doc, id } = addStep(lead(), "notify", { x: 10, y: 20 });
    expect(id).toBe("notify");
    expect(doc.steps.find((s) => s.id === "wait")?.next).toBe("email");
    expect(doc.steps.at(-1)).toEqual({ id: "notify", type: "notify", ui: { x: 10, y: 20 } });
    expect(edgesOf(doc).filter((e) => e.source !== "notify").map((e) => e.target)).toEqual(edgesOf(lead()).map((e) => e.target));
    expect(addStep(doc, "notify", { x: 0, y: 0 }).id).toBe("notify_2");
  });
  it("removing a step removes links to it and keeps the others", () => {
    const doc = removeSteps(lead(), ["wait"]);
    expect(doc.steps.map((s) => s.id)).toEqual(["hot", "assign", "email", "done"]);
    expect(doc.steps[0].else).toBeUndefined();
    expect(doc.steps[2].next).toBe("done");
  });
  it("duplicates a subgraph: inner links follow the copies, outer links stay", () => {
    const base = moveSteps(lead(), { assign: { x: 100, y: 100 } });
    const { doc, ids } = duplicate(base, ["assign", "email"]);
    expect(ids).toEqual(["assign_copy", "email_copy"]);
    const assignCopy = doc.steps.find((s) => s.id === "assign_copy")!;
    const emailCopy = doc.steps.find((s) => s.id === "email_copy")!;
    expect(assignCopy.next).toBe("email_copy");
    expect(emailCopy.next).toBe("done");
    expect(assignCopy.ui).toEqual({ x: 160, y: 160 });
    expect(doc.steps.find((s) => s.id === "assign")!.next).toBe("email");
    expect(duplicate(doc, ["assign"]).ids).toEqual(["assign_copy_2"]);
  });
  it("switch case and split arm links are set in their list items", () => {
    const doc: WorkflowDoc = { name: "x", steps: [{ id: "p", kind: "split", arms: [{ name: "A", weight: 1 }] }, { id: "a", type: "end" }] };
    expect((setExit(doc, "p", "arm:0", "a").steps[0].arms as { next: string }[])[0].next).toBe("a");
    expect(setExit(doc, "p", "arm:5", "a")).toEqual(doc);
  });
});

describe("problems", () => {
  it("finds dangling links, unreachable steps and duplicate ids locally", () => {
    const doc = lead();
    doc.steps[1] = { ...doc.steps[1], next: "nowhere" };
    doc.steps.push({ id: "orphan", type: "end" }, { id: "orphan", type: "end" });
    const codes = localProblems(doc).map((p) => `${p.node}:${p.code}`);
    expect(codes).toContain("assign:unknown_step");
    expect(codes).toContain("orphan:unreachable");
    expect(codes).toContain("orphan:duplicate_id");
    expect(localProblems(lead())).toEqual([]);
  });
  it("places server problems on nodes by id, by JSON pointer, or on the workflow", () => {
    const placed = placeProblems(lead(), [
      { field: "steps.wait", code: "loop_without_wait", message: "m1" },
      { field: "/steps/3/channel", code: "enum", message: "m2" },
      { node: "hot", code: "invalid_rule", message: "m3" },
      { field: "trigger", code: "required", message: "m4" },
      { field: "/name", code: "pattern", message: "m5" },
    ]);
    expect(placed.map((p) => p.node)).toEqual(["wait", "email", "hot", TRIGGER_NODE, ""]); // the trigger is a node now
    expect(placed[3].message).toBe("trigger: m4");
  });
});

describe("form output", () => {
  it("drops what RJSF fills in for untouched fields, keeps zeros, false and lists", () => {
    expect(pruneEmpty({ duration: { amount: 2, unit: "day" }, until: {}, note: "", x: undefined, z: null, n: 0, f: false, l: [] }))
      .toEqual({ duration: { amount: 2, unit: "day" }, n: 0, f: false, l: [] });
    expect(pruneEmpty({ until: { offset: {} } })).toEqual({});
  });
});

describe("undo", () => {
  it("undoes and redoes, and a new edit clears redo", () => {
    const h = new History<number>(2);
    h.push(1);
    h.push(2);
    h.push(3); // the oldest (1) falls off
    expect(h.undo(4)).toBe(3);
    expect(h.redo(3)).toBe(4);
    expect(h.undo(4)).toBe(3);
    expect(h.undo(3)).toBe(2);
    expect(h.undo(2)).toBeNull();
    expect(h.canRedo).toBe(true);
    h.push(2);
    expect(h.canRedo).toBe(false);
  });
});

describe("the trigger node", () => {
  it("has one edge, to the first step, or to `start` when written", () => {
    expect(triggerEdge(lead())).toMatchObject({ source: TRIGGER_NODE, sourceHandle: "start", target: "hot", implicit: true });
    expect(triggerEdge({ ...lead(), start: "wait" })).toMatchObject({ target: "wait", implicit: false });
    expect(triggerEdge({ name: "x", steps: [] })).toBeNull();
  });
  it("is re-pointed through `start` and is never deleted", () => {
    const moved = setExit(lead(), TRIGGER_NODE, "start", "wait");
    expect(moved.start).toBe("wait");
    expect(moved.steps).toEqual(lead().steps);
    expect("start" in setExit(moved, TRIGGER_NODE, "start", "hot")).toBe(false); // the first step needs no `start`
    expect(removeSteps(lead(), [TRIGGER_NODE])).toEqual(lead());
    expect(removeSteps(lead(), [TRIGGER_NODE, "done"]).steps.map((s) => s.id)).toEqual(["hot", "assign", "wait", "email"]);
  });
  it("is drawn above the start step", () => {
    const doc = moveSteps(lead(), { hot: { x: 100, y: 200 } });
    expect(triggerPosition(doc)).toEqual({ x: 100, y: 70 });
  });
  it("reads the fields a trigger type takes from the trigger's JSON schema", () => {
    expect(triggerKeys(TRIGGER.schema, "schedule")).toEqual({ keys: ["type", "when", "segment", "cron", "timezone", "rule"],
      required: ["type", "cron"] });
    expect(triggerKeys(TRIGGER.schema, "segment_entered")).toEqual({ keys: ["type", "when", "segment"], required: ["type", "segment"] });
    expect(triggerKeys(TRIGGER.schema, "record_updated").keys).toEqual(["type", "when", "fields", "becomes"]);
    expect(triggerKeys(TRIGGER.schema, "form_submitted").keys).toEqual(["type", "when", "form"]);
    expect(triggerKeys(TRIGGER.schema, "manual").keys).toEqual(["type", "when"]);
  });
  it("keeps only the fields the trigger type takes", () => {
    const when = { field: "score", op: "gt", value: 1 };
    let doc = setTrigger(lead(), { type: "tag_added", tag: "vip", when }, triggerKeys(TRIGGER.schema, "tag_added").keys);
    expect(doc.trigger).toEqual({ type: "tag_added", tag: "vip", when });
    doc = setTrigger(doc, { ...(doc.trigger as object), type: "schedule", cron: "0 2 * * *" }, triggerKeys(TRIGGER.schema, "schedule").keys);
    expect(doc.trigger).toEqual({ type: "schedule", cron: "0 2 * * *", when });
    expect(doc.steps).toEqual(lead().steps);
  });
  it("sets and clears enrollment and goal", () => {
    const doc = setSetting(lead(), "enrollment", { reenroll: "never" });
    expect(doc.enrollment).toEqual({ reenroll: "never" });
    expect("enrollment" in setSetting(doc, "enrollment", {})).toBe(false);
    expect("goal" in setSetting({ ...doc, goal: { field: "status", op: "eq", value: "won" } }, "goal", null)).toBe(false);
  });
  it("gets the problems whose pointer starts with /trigger (and node `trigger`)", () => {
    const placed = placeProblems(lead(), [
      { field: "/trigger/segment", code: "required", message: "segment is required" },
      { field: "/trigger", code: "type", message: "bad" },
      { node: "trigger", code: "unknown_tag", message: "no such tag" },
      { field: "/triggers", code: "x", message: "not the trigger" },
      { field: "/steps/1/strategy", code: "enum", message: "bad strategy" },
      { node: "workflow", pointer: "/enrollment/reenroll", code: "enum", message: "bad" }, // the draft answer's shape
      { node: "goal", pointer: "/goal", code: "invalid_rule", message: "no field x" },
    ]);
    expect(placed.map((p) => p.node)).toEqual([TRIGGER_NODE, TRIGGER_NODE, TRIGGER_NODE, "", "assign", TRIGGER_NODE, TRIGGER_NODE]);
  });
});
