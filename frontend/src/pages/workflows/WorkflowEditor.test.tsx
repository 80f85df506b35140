import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, api } from "../../api/client";
import { workflowsApi } from "../../api/workflows";
import { I18nProvider, type Language } from "../../i18n";
import { Router } from "../../lib/router";
import WorkflowEditor from "./WorkflowEditor";
import { leadDetail } from "../../test/fixtures";
import { STEPS, leadFlow } from "./fixtures";

vi.mock("../../api/client", async (orig) => {
  const real = await orig<typeof import("../../api/client")>();
  return { ...real, api: { object: vi.fn(), definition: vi.fn(), version: vi.fn() } };
});
vi.mock("../../api/workflows", () => ({
  workflowsApi: { steps: vi.fn(), draft: vi.fn(), saveDraft: vi.fn(), validate: vi.fn(), publish: vi.fn(), start: vi.fn(),
    testNode: vi.fn(), triggers: vi.fn() },
}));

const wf = vi.mocked(workflowsApi);

beforeAll(() => {
  // React Flow measures its container; jsdom has neither ResizeObserver nor DOMMatrix.
  globalThis.ResizeObserver ??= class { observe() {} unobserve() {} disconnect() {} } as unknown as typeof ResizeObserver;
  (globalThis as Record<string, unknown>).DOMMatrixReadOnly ??= class { m22 = 1; constructor() {} };
});

beforeEach(() => {
  vi.clearAllMocks();
  vi.mocked(api.object).mockResolvedValue(leadDetail());
  wf.steps.mockResolvedValue(STEPS);
  wf.triggers.mockResolvedValue({ node: "trigger", kind: "trigger", types: ["record_created", "tag_added"], exit: "start",
    schema: { type: "object", required: ["type"], properties: { type: { enum: ["record_created", "tag_added"] },
      tag: { type: "string", minLength: 1 } } } });
  wf.draft.mockResolvedValue({ name: "lead_flow", definition: leadFlow(), draft: true });
  wf.saveDraft.mockResolvedValue({ problems: [] });
});

function renderEditor(lang: Language = "en") {
  return render(<I18nProvider initial={lang}><Router><WorkflowEditor name="lead_flow" /></Router></I18nProvider>);
}

describe("WorkflowEditor", () => {
  it("draws the draft's steps and offers the registry's step types", async () => {
    renderEditor();
    expect(await screen.findByTestId("node-hot")).toBeTruthy();
    expect(screen.getByTestId("node-wait")).toBeTruthy();
    const palette = screen.getByRole("complementary", { name: "Steps" });
    expect(within(palette).getAllByRole("button").map((b) => b.textContent)).toEqual(
      ["+ Branch (if)", "+ Wait", "+ Send message", "+ End"]);
  });

  it("adds a step from the palette, undoes and redoes it, and saves the draft as edited", async () => {
    renderEditor();
    await screen.findByTestId("node-hot");
    fireEvent.click(screen.getByRole("button", { name: "+ End" }));
    expect(await screen.findByTestId("node-end")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Undo" }));
    await waitFor(() => expect(screen.queryByTestId("node-end")).toBeNull());
    fireEvent.click(screen.getByRole("button", { name: "Redo" }));
    expect(await screen.findByTestId("node-end")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    await waitFor(() => expect(wf.saveDraft).toHaveBeenCalled());
    const saved = wf.saveDraft.mock.calls[0][1];
    expect(saved.steps.map((s) => s.id)).toEqual(["hot", "wait", "email", "end"]);
    expect(saved.steps[0]).toMatchObject({ then: "email", else: "wait" });
    expect(saved.steps[3]).toMatchObject({ id: "end", type: "end" });
    expect(await screen.findByRole("status")).toHaveProperty("textContent", "Draft saved.");
  });

  it("publishes with the chosen policy after saving, and a 422 puts the reasons on the nodes", async () => {
    wf.publish.mockRejectedValueOnce(new ApiError(422, "invalid_workflow", "invalid",
      [{ field: "steps.wait", code: "loop_without_wait", message: "this loop has no exit" }]));
    wf.publish.mockResolvedValueOnce({ version: 2, continued: 3, moved: 0, stayed: [], cancelled: 0 });
    renderEditor();
    await screen.findByTestId("node-hot");
    fireEvent.click(screen.getByRole("button", { name: "Publish" }));
    fireEvent.click(screen.getByLabelText("move to the same step in the new version"));
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    await waitFor(() => expect(wf.publish).toHaveBeenCalledWith("lead_flow", "move"));
    expect(await within(screen.getByTestId("node-wait")).findByText("this loop has no exit")).toBeTruthy();
    expect(within(screen.getByTestId("node-hot")).queryByRole("alert")).toBeNull();

    fireEvent.click(screen.getByRole("button", { name: "Publish" }));
    fireEvent.click(screen.getByLabelText("continue on their version (default)"));
    fireEvent.click(screen.getByRole("button", { name: "Publish now" }));
    await waitFor(() => expect(wf.publish).toHaveBeenLastCalledWith("lead_flow", "continue"));
    expect(await screen.findByTestId("publish-result")).toHaveProperty("textContent",
      "Version 2: 3 runs continue, 0 moved, 0 stayed (step gone), 0 cancelled.");
    expect(within(screen.getByTestId("node-wait")).queryByRole("alert")).toBeNull();
  });

  it("draws the trigger first, edits it in its inspector, saves it in the draft, and never deletes it", async () => {
    renderEditor();
    const node = await screen.findByTestId("node-__trigger");
    expect(node.textContent).toContain("A record is created");
    const ids = [...document.querySelectorAll("[data-node]")].map((n) => n.getAttribute("data-node"));
    expect(ids[0]).toBe("__trigger");
    fireEvent.click(node);
    const inspector = await screen.findByTestId("trigger-inspector");
    expect(screen.getByRole("button", { name: "Delete" })).toHaveProperty("disabled", true);
    fireEvent.change(within(inspector).getByLabelText(/Starts when/), { target: { value: "1" } });
    fireEvent.change(await within(inspector).findByRole("textbox", { name: /Tag/ }), { target: { value: "vip" } });
    await waitFor(() => expect(screen.getByTestId("node-__trigger").textContent).toContain("A tag is added"));
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    await waitFor(() => expect(wf.saveDraft).toHaveBeenCalled());
    const saved = wf.saveDraft.mock.calls[0][1];
    expect(saved.trigger).toEqual({ type: "tag_added", tag: "vip" });
    expect(saved.steps.map((s) => s.id)).toEqual(["hot", "wait", "email"]);
  });

  it("puts problems of /trigger on the trigger node", async () => {
    wf.validate.mockResolvedValue([{ field: "/trigger/tag", code: "required", message: "tag is required" }]);
    renderEditor();
    await screen.findByTestId("node-__trigger");
    fireEvent.click(screen.getByRole("button", { name: "Check" }));
    expect(await within(screen.getByTestId("node-__trigger")).findByText("/trigger/tag: tag is required")).toBeTruthy();
  });

  it("speaks Chinese", async () => {
    renderEditor("zh");
    await screen.findByTestId("node-hot");
    expect(screen.getByRole("button", { name: "保存草稿" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "+ 等待" })).toBeTruthy();
    expect(screen.getByTestId("node-__trigger").textContent).toBe("触发条件记录创建时");
  });
});
