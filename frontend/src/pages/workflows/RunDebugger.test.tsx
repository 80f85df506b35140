import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, api } from "../../api/client";
import { workflowsApi, type Run } from "../../api/workflows";
import { I18nProvider } from "../../i18n";
import { Router } from "../../lib/router";
import { STEPS, leadFlow } from "./fixtures";
import RunDebugger from "./RunDebugger";
import { RunList } from "./RunList";

vi.mock("../../api/client", async (orig) => {
  const real = await orig<typeof import("../../api/client")>();
  return { ...real, api: { object: vi.fn(), definition: vi.fn(), version: vi.fn() } };
});
vi.mock("../../api/workflows", () => ({
  workflowsApi: { steps: vi.fn(), run: vi.fn(), runs: vi.fn(), rerun: vi.fn(), testNode: vi.fn() },
}));

const wf = vi.mocked(workflowsApi);

const RUN: Run = {
  id: 41, workflow: "lead_flow", version: 3, object: "lead", record_id: 7, status: "waiting",
  steps: [
    { node: "hot", kind: "if", status: "done", attempts: 1, input: { score: 30 }, output: { matched: false },
      started_at: "2026-12-03T06:00:00.000Z", finished_at: "2026-12-03T06:00:00.250Z",
      evaluation: { result: false, conditions: [{ field: "score", op: "gt", value: 50, actual: 30, result: false }] } },
    { node: "wait", kind: "wait", status: "waiting", attempts: 0, due_at: "2026-12-05T06:00:00Z" },
  ],
};

beforeAll(() => {
  globalThis.ResizeObserver ??= class { observe() {} unobserve() {} disconnect() {} } as unknown as typeof ResizeObserver;
  (globalThis as Record<string, unknown>).DOMMatrixReadOnly ??= class { m22 = 1; constructor() {} };
});

beforeEach(() => {
  vi.clearAllMocks();
  window.history.replaceState(null, "", "/");
  wf.steps.mockResolvedValue(STEPS);
  wf.run.mockResolvedValue(RUN);
  vi.mocked(api.version).mockResolvedValue({ version: 3, body: leadFlow() } as never);
});

function renderIt(node: React.ReactNode) {
  return render(<I18nProvider initial="en"><Router>{node}</Router></I18nProvider>);
}

describe("RunDebugger", () => {
  it("shows the run's version, each step's facts and the condition values that chose the branch", async () => {
    renderIt(<RunDebugger id={41} />);
    expect((await screen.findByTestId("run-version")).textContent).toBe("3");
    expect(api.version).toHaveBeenCalledWith("workflow", "lead_flow", 3);
    const hot = document.querySelector('details[data-node="hot"]') as HTMLElement;
    expect(within(hot).getByText("Rule evaluation: false")).toBeTruthy();
    const row = within(hot).getByText("score").closest("tr")!;
    expect([...row.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["score", "gt", "50", "30", "✗"]);
    expect(within(hot).getByText(/250 ms/)).toBeTruthy();
    expect(await screen.findByTestId("node-wait")).toBeTruthy(); // the graph, read-only, with statuses
    expect(screen.getByTestId("node-wait").className).toContain("flow-status-waiting");
  });

  it("re-runs from a step: the server's list of side effects is confirmed first", async () => {
    wf.rerun.mockRejectedValueOnce(new ApiError(409, "confirm_side_effects", "again",
      [{ field: "confirm_side_effects", code: "confirm_side_effects", message: "email" }]));
    wf.rerun.mockResolvedValueOnce({ run: { ...RUN, id: 42, rerun_of: 41 }, rerun_of: 41 });
    renderIt(<RunDebugger id={41} />);
    await screen.findByTestId("run-version");
    const hot = document.querySelector('details[data-node="hot"]') as HTMLElement;
    fireEvent.click(within(hot).getByRole("button", { name: "Re-run from this step" }));
    const dialog = await within(hot).findByRole("dialog");
    expect(dialog.textContent).toContain("Steps email write data or send messages");
    expect(wf.rerun).toHaveBeenCalledWith(41, "hot", false);
    fireEvent.click(within(dialog).getByRole("button", { name: "Re-run and repeat its effects" }));
    await waitFor(() => expect(wf.rerun).toHaveBeenLastCalledWith(41, "hot", true));
    await waitFor(() => expect(window.location.pathname).toBe("/workflows/runs/42"));
  });

  it("tests a node on the run's record", async () => {
    wf.testNode.mockResolvedValue({ dry_run: true, output: { matched: true } });
    renderIt(<RunDebugger id={41} />);
    await screen.findByTestId("run-version");
    const hot = document.querySelector('details[data-node="hot"]') as HTMLElement;
    fireEvent.click(within(hot).getByRole("button", { name: "Test this step" }));
    expect(await within(hot).findByTestId("test-result")).toBeTruthy();
    expect(wf.testNode).toHaveBeenCalledWith("lead_flow", "hot", 7);
  });
});

describe("RunList", () => {
  it("filters by status, version and record through the URL", async () => {
    wf.runs.mockResolvedValue({ items: [RUN], next_cursor: null });
    window.history.replaceState(null, "", "/workflows/runs?workflow=lead_flow");
    renderIt(<RunList />);
    expect(await screen.findByRole("link", { name: "41" })).toBeTruthy();
    expect(wf.runs).toHaveBeenLastCalledWith({ workflow: "lead_flow", status: "", version: "", record: "" });
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "failed" } });
    await waitFor(() => expect(wf.runs).toHaveBeenLastCalledWith(expect.objectContaining({ status: "failed", workflow: "lead_flow" })));
    const version = screen.getByLabelText("Version");
    fireEvent.change(version, { target: { value: "2" } });
    fireEvent.blur(version);
    await waitFor(() => expect(wf.runs).toHaveBeenLastCalledWith(expect.objectContaining({ status: "failed", version: "2" })));
    expect(window.location.search).toBe("?workflow=lead_flow&status=failed&version=2");
    expect(document.querySelector("td .run-waiting")?.textContent).toBe("Waiting");
  });
});
