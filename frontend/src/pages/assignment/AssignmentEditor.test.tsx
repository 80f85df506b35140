import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, request } from "../../api/client";
import { I18nProvider } from "../../i18n";
import { Router } from "../../lib/router";
import { leadDetail } from "../../test/fixtures";
import { AssignmentEditor } from "./AssignmentEditor";

vi.mock("../../api/client", async (orig) => {
  const real = await orig<typeof import("../../api/client")>();
  return { ...real, request: vi.fn(), api: { definition: vi.fn(), object: vi.fn(), putDefinition: vi.fn(), users: vi.fn(async () => []) } };
});

const mocked = vi.mocked(api);
const routing = {
  name: "lead_routing", label: { en: "Lead routing", zh: "线索分配" }, object: "lead", on_create: true,
  entries: [{ name: "by_region", strategy: "territory", capacity: { per_day: 200 }, fallback: { team: "sales" },
    territories: [{ name: "east", when: { field: "city", op: "in", value: ["shanghai"] }, team: "east_sales" }] }],
};

function renderEditor() {
  return render(<I18nProvider initial="en"><Router><AssignmentEditor name="lead_routing" /></Router></I18nProvider>);
}

beforeEach(() => {
  vi.clearAllMocks();
  mocked.definition.mockResolvedValue(structuredClone(routing));
  mocked.object.mockResolvedValue(leadDetail());
  mocked.putDefinition.mockResolvedValue({ changed: true, changes: [], problems: [] });
});

describe("AssignmentEditor", () => {
  it("saves an unchanged definition as it was loaded", async () => {
    renderEditor();
    fireEvent.click(await screen.findByRole("button", { name: "Save" }));
    await screen.findByText(/Saved/);
    expect(mocked.putDefinition).toHaveBeenCalledWith("assignment", "lead_routing", routing);
  });

  it("adds a round-robin entry with users and a daily capacity", async () => {
    renderEditor();
    fireEvent.click(await screen.findByRole("button", { name: "Add an entry" }));
    const second = screen.getByLabelText("Entry 2");
    fireEvent.change(second.querySelector("input[list='assign-users']") as HTMLInputElement, { target: { value: "zhang.wei, john.smith" } });
    fireEvent.change(screen.getAllByLabelText("At most per user per day")[1], { target: { value: "20" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(mocked.putDefinition).toHaveBeenCalled());
    const body = mocked.putDefinition.mock.calls[0][2] as { entries: unknown[] };
    expect(body.entries[1]).toEqual({ strategy: "round_robin", users: ["zhang.wei", "john.smith"], capacity: { per_day: 20 } });
  });

  it("shows the server's refusal naming the entry", async () => {
    mocked.putDefinition.mockRejectedValue(new ApiError(422, "invalid_definition", "The definition is invalid",
      [{ field: "entries/0/users/0", code: "unknown_user", message: "no user nobody" }]));
    renderEditor();
    fireEvent.click(await screen.findByRole("button", { name: "Save" }));
    await screen.findByText(/no user nobody/);
  });

  it("explains who would get a record", async () => {
    vi.mocked(request).mockResolvedValue({ matched: true, entry_name: "by_region", territory: "east",
      owner: { id: 3, username: "zhang.wei" }, skipped: [{ user_id: 4, username: "li.na", reason: "capacity_reached" }], fallback: null, pool: null });
    renderEditor();
    fireEvent.change(await screen.findByLabelText("Record id"), { target: { value: "12" } });
    fireEvent.click(screen.getByRole("button", { name: "Explain" }));
    await screen.findByText("It goes to zhang.wei.");
    expect(screen.getByText("li.na skipped: capacity reached")).toBeTruthy();
    expect(request).toHaveBeenCalledWith("POST", "/assignment/lead_routing/explain", { body: { record_id: 12 } });
  });
});
