import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../api/client";
import { I18nProvider } from "../../i18n";
import { Router } from "../../lib/router";
import { ObjectDesigner } from "./ObjectDesigner";

vi.mock("../../api/client", async (orig) => {
  const real = await orig<typeof import("../../api/client")>();
  return { ...real, api: { definition: vi.fn(), objects: vi.fn(), putDefinition: vi.fn(), plan: vi.fn() } };
});

const mocked = vi.mocked(api);
const refused = { changed: true, changes: [], problems: [{ field: "segment/hot#/rule/field", code: "field_in_use",
  message: "segment 'hot' uses field 'score' of lead, which this change removes" }] };
const forced = { changed: true, problems: [], changes: [{ kind: "object", name: "lead", action: "update",
  diff: ["- score"], table: ["keep column score (retired)"] }] };

beforeEach(() => {
  vi.clearAllMocks();
  mocked.definition.mockResolvedValue({ $id: "lead", type: "object", "x-label": { en: "Lead", zh: "线索" },
    properties: { name: { "x-field": "text", maxLength: 50 } }, required: ["name"] } as never);
  mocked.objects.mockResolvedValue([] as never);
});

function renderDesigner() {
  render(<I18nProvider initial="zh"><Router><ObjectDesigner name="lead" /></Router></I18nProvider>);
}

describe("ObjectDesigner", () => {
  it("shows what forcing a refused change would do and applies it with force only when confirmed", async () => {
    mocked.plan.mockImplementation(async (_items, force) => (force ? forced : refused) as never);
    mocked.putDefinition.mockResolvedValue(forced as never);
    const confirm = vi.spyOn(window, "confirm").mockReturnValueOnce(false).mockReturnValueOnce(true);
    renderDesigner();
    fireEvent.click(await screen.findByRole("button", { name: "查看变更计划" }));
    const force = await screen.findByRole("button", { name: "强制应用" });
    expect(mocked.plan).toHaveBeenLastCalledWith(expect.anything(), true);
    expect(screen.getByText(/segment 'hot' uses field 'score'/)).toBeTruthy();  // why it is refused
    expect(screen.getByRole("region", { name: "强制应用将会" }).textContent).toContain("keep column score (retired)");  // what force does
    expect((screen.getByRole("button", { name: "应用" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(force);  // declined: nothing sent
    expect(mocked.putDefinition).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "强制应用" }));
    await waitFor(() => expect(mocked.putDefinition).toHaveBeenCalledWith("object", "lead", expect.anything(), true));
    await waitFor(() => expect(screen.queryByRole("button", { name: "强制应用" })).toBeNull());
    expect(confirm).toHaveBeenCalledTimes(2);
  });

  it("offers nothing when force would not get the change through", async () => {
    mocked.plan.mockResolvedValue(refused as never);
    renderDesigner();
    fireEvent.click(await screen.findByRole("button", { name: "查看变更计划" }));
    await screen.findByText(/segment 'hot' uses field 'score'/);
    await waitFor(() => expect(mocked.plan).toHaveBeenCalledTimes(2));
    expect(screen.queryByRole("button", { name: "强制应用" })).toBeNull();
  });
});
