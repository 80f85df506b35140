import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../lib/router";
import { leadDetail } from "../test/fixtures";
import { pickBoardField } from "./KanbanPage";
import { RecordFormPage } from "./RecordFormPage";

vi.mock("../api/client", async (orig) => {
  const real = await orig<typeof import("../api/client")>();
  return { ...real, api: { object: vi.fn(), getRecord: vi.fn(), updateRecord: vi.fn(), submitForm: vi.fn(), createRecord: vi.fn() } };
});

const mocked = vi.mocked(api);

function renderPage(id?: number) {
  return render(<I18nProvider initial="en"><Router><RecordFormPage object="lead" id={id} /></Router></I18nProvider>);
}

beforeEach(() => {
  vi.clearAllMocks();
  mocked.object.mockResolvedValue(leadDetail());
  mocked.getRecord.mockResolvedValue({ record: { id: 7, name: "Ann", city: "beijing", version: 3 }, version: 3 });
});

describe("RecordFormPage", () => {
  it("sends only changed fields with the version read, and reports a stale version with a reload", async () => {
    mocked.updateRecord.mockRejectedValueOnce(new ApiError(409, "conflict", "stale", [
      { field: "version", code: "stale_version", message: "expected version 3, the record is at 4" }]));
    renderPage(7);
    const name = await screen.findByLabelText(/Name/);
    fireEvent.change(name, { target: { value: "Anna" } });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save" })); });
    expect(mocked.updateRecord).toHaveBeenCalledWith("lead", 7, 3, { name: "Anna" });
    await screen.findByText(/Someone else changed this record/);
    mocked.getRecord.mockResolvedValue({ record: { id: 7, name: "Ann B.", city: "beijing", version: 4 }, version: 4 });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Reload record" })); });
    await waitFor(() => expect((screen.getByLabelText(/Name/) as HTMLInputElement).value).toBe("Ann B."));
    expect(screen.queryByText(/Someone else changed this record/)).toBeNull();
  });

  it("creates through the form so its option tags apply, sending only the form's answers", async () => {
    mocked.submitForm.mockResolvedValue({ id: 9 });
    renderPage();
    fireEvent.change(await screen.findByLabelText(/Name/), { target: { value: "Bo" } });
    fireEvent.change(screen.getByLabelText("City"), { target: { value: "0" } });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Create" })); });
    expect(mocked.submitForm).toHaveBeenCalledWith("lead_default", { name: "Bo", city: "shanghai" });
    expect(window.location.pathname).toBe("/o/lead/9");
  });

  it("builds the kanban board on stage, then status, then any select field", () => {
    const fields = leadDetail().fields;
    expect(pickBoardField(fields, null)?.name).toBe("city");
    expect(pickBoardField([...fields, { name: "status", type: "select", label: "S", options: ["a"] }], null)?.name).toBe("status");
    expect(pickBoardField(fields, "city")?.name).toBe("city");
    expect(pickBoardField(fields.filter((f) => f.type !== "select"), null)).toBeUndefined();
  });
});
