import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { workflowsApi } from "../../api/workflows";
import { I18nProvider } from "../../i18n";
import { Router } from "../../lib/router";
import { WorkflowList, runCount } from "./WorkflowList";

vi.mock("../../session", () => ({
  useSession: () => ({ me: { id: 1, is_admin: true }, objects: [{ name: "lead", label: { en: "Lead", zh: "线索" } }] }),
}));
vi.mock("../../api/workflows", () => ({ workflowsApi: { list: vi.fn(), saveDraft: vi.fn() } }));
const wf = vi.mocked(workflowsApi);

beforeEach(() => {
  vi.clearAllMocks();
  window.history.replaceState(null, "", "/workflows");
  wf.list.mockResolvedValue([{ name: "new_lead_routing", label: { en: "New lead routing" }, object: "lead",
    runs: { done: 3, waiting: 2 } }]);
  wf.saveDraft.mockResolvedValue({ problems: [] });
});

describe("WorkflowList", () => {
  it("counts runs given per status", async () => {
    render(<I18nProvider initial="en"><Router><WorkflowList /></Router></I18nProvider>);
    expect((await screen.findByRole("link", { name: "5" })).getAttribute("href")).toBe("/workflows/runs?workflow=new_lead_routing");
    expect(runCount(7)).toBe(7);
    expect(runCount({})).toBe(0);
  });

  it("creates a draft from a name, object and trigger, and refuses a bad name", async () => {
    render(<I18nProvider initial="en"><Router><WorkflowList /></Router></I18nProvider>);
    const name = document.querySelector("input[name=wf-name]") as HTMLInputElement;
    fireEvent.change(name, { target: { value: "Bad Name" } });
    fireEvent.change(document.querySelector("select[name=wf-object]")!, { target: { value: "lead" } });
    fireEvent.click(screen.getByRole("button", { name: "Create draft" }));
    expect((await screen.findByRole("alert")).textContent).toContain("lower-case");
    expect(wf.saveDraft).not.toHaveBeenCalled();
    fireEvent.change(name, { target: { value: "follow_up" } });
    fireEvent.click(screen.getByRole("button", { name: "Create draft" }));
    await waitFor(() => expect(window.location.pathname).toBe("/workflows/follow_up"));
    expect(wf.saveDraft).toHaveBeenCalledWith("follow_up", expect.objectContaining({ object: "lead", trigger: { type: "record_created" }, steps: [] }));
  });
});
