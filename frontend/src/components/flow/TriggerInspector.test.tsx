import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../api/client";
import { I18nProvider } from "../../i18n";
import { TRIGGER_NODE } from "../../lib/workflowGraph";
import { TRIGGER, leadFlow } from "../../pages/workflows/fixtures";
import { leadDetail } from "../../test/fixtures";
import { buildNodes } from "./FlowCanvas";
import { TriggerInspector, triggerRules, triggerSchema } from "./TriggerInspector";

vi.mock("../../api/client", async (orig) => {
  const real = await orig<typeof import("../../api/client")>();
  return { ...real, api: { object: vi.fn() } };
});

const TYPES = TRIGGER.types;

beforeEach(() => {
  vi.clearAllMocks();
  vi.mocked(api.object).mockResolvedValue(leadDetail());
});

function renderInspector(doc = leadFlow(), extra: Partial<Parameters<typeof TriggerInspector>[0]> = {}) {
  const props = { doc, info: TRIGGER, problems: [], readOnly: false, onTrigger: vi.fn(), onSetting: vi.fn(), ...extra };
  render(<I18nProvider initial="en"><TriggerInspector {...props} /></I18nProvider>);
  return props;
}

describe("trigger node on the canvas", () => {
  it("is the first node, above the start step, with one exit, not deletable nor dragged", () => {
    const nodes = buildNodes(leadFlow(), [], {}, {}, [], {}, { title: "Trigger", caption: "A record is created" });
    expect(nodes.map((n) => n.id)).toEqual([TRIGGER_NODE, "hot", "wait", "email"]);
    const [trigger] = nodes;
    expect(trigger).toMatchObject({ deletable: false, draggable: false, position: { x: 0, y: -130 } });
    expect(trigger.data).toMatchObject({ kind: "trigger", caption: "A record is created", exits: [{ handle: "start" }] });
    expect(buildNodes(leadFlow(), [], {}, {}, [], {}).map((n) => n.id)).toEqual(["hot", "wait", "email"]); // run debugger
  });
  it("shows the problems placed on it", () => {
    const problems = [{ node: TRIGGER_NODE, code: "required", message: "/trigger/segment: required" }];
    const [trigger] = buildNodes(leadFlow(), problems, {}, {}, [], {}, { title: "Trigger", caption: "" });
    expect(trigger.data.problems).toEqual(problems);
  });
});

describe("TriggerInspector", () => {
  it("builds the form schema of a type from the trigger's JSON schema", () => {
    expect(Object.keys(triggerSchema(TRIGGER, "schedule").properties ?? {})).toEqual(["type", "segment", "cron", "timezone"]);
    expect(triggerSchema(TRIGGER, "schedule").required).toEqual(["type", "cron"]);
    expect(triggerSchema(TRIGGER, "segment_left").required).toEqual(["type", "segment"]);
    expect(Object.keys(triggerSchema(TRIGGER, "record_updated").properties ?? {})).toEqual(["type", "fields"]);
    expect(Object.keys(triggerSchema(TRIGGER, "tag_removed").properties ?? {})).toEqual(["type", "tag"]);
    expect(Object.keys(triggerSchema(TRIGGER, "webhook").properties ?? {})).toEqual(["type"]);
    expect(Object.keys(triggerSchema(TRIGGER, "segment_entered").properties ?? {})).toEqual(["type", "segment"]);
    expect(triggerSchema(TRIGGER, "record_created").allOf).toBeUndefined();
    expect(triggerRules(TRIGGER, "schedule")).toEqual(["when", "rule"]);
    expect(triggerRules(TRIGGER, "record_updated")).toEqual(["when", "becomes"]);
  });

  it("changes the trigger's type and its fields", async () => {
    const props = renderInspector();
    const type = screen.getByLabelText(/Starts when/) as HTMLSelectElement;
    expect(type.value).toBe(String(TYPES.indexOf("record_created")));
    fireEvent.change(type, { target: { value: String(TYPES.indexOf("tag_added")) } });
    await waitFor(() => expect(props.onTrigger).toHaveBeenLastCalledWith(expect.objectContaining({ type: "tag_added" }),
      ["type", "when", "tag"]));
  });

  it("edits the tag of a tag trigger", async () => {
    const doc = { ...leadFlow(), trigger: { type: "tag_added", tag: "vip" } };
    const props = renderInspector(doc);
    const tag = screen.getByRole("textbox", { name: /Tag/ }) as HTMLInputElement;
    expect(tag.value).toBe("vip");
    fireEvent.change(tag, { target: { value: "trade_show" } });
    await waitFor(() => expect(props.onTrigger).toHaveBeenLastCalledWith({ type: "tag_added", tag: "trade_show" },
      ["type", "when", "tag"]));
  });

  it("edits enrollment beside the trigger and offers the goal", async () => {
    const props = renderInspector();
    fireEvent.change(screen.getByLabelText(/Start again for a record/), { target: { value: "0" } });
    await waitFor(() => expect(props.onSetting).toHaveBeenLastCalledWith("enrollment", { reenroll: "never" }));
    expect(await screen.findByText("Goal")).toBeTruthy();
  });

  it("is read-only at phone width", () => {
    renderInspector(leadFlow(), { readOnly: true });
    expect((screen.getByLabelText(/Starts when/) as HTMLSelectElement).disabled).toBe(true);
  });
});
