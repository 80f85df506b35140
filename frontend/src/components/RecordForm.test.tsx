import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { I18nProvider } from "../i18n";
import { XSS, demoLeadDetail, emptyLead, leadDetail } from "../test/fixtures";
import { RecordForm } from "./RecordForm";

vi.mock("../api/client", async (orig) => ({ ...(await orig<typeof import("../api/client")>()), api: {} }));

function renderForm(onSubmit: (v: Record<string, unknown>) => Promise<void>, lang: "en" | "zh" = "en", xss = false) {
  const detail = leadDetail();
  if (xss) {
    detail.fields[0].label = { en: XSS };
    detail.forms[0].sections[0].label = { en: XSS };
    detail.fields[0].help = { en: XSS };
  }
  return render(
    <I18nProvider initial={lang}>
      <RecordForm detail={detail} form={detail.forms[0]} submitLabel="Save" onSubmit={onSubmit} />
    </I18nProvider>,
  );
}

describe("RecordForm", () => {
  it("renders sections with labelled, keyboard-reachable inputs", () => {
    renderForm(async () => undefined);
    expect(screen.getByRole("heading", { name: "Basics" })).toBeTruthy();
    const name = screen.getByLabelText(/Name/);
    expect(name.tagName).toBe("INPUT");
    expect(screen.getByLabelText("Mobile").getAttribute("type")).toBe("tel");
    expect(screen.getByRole("option", { name: "Shanghai" })).toBeTruthy();
  });

  it("shows user-supplied labels and help as text, never as markup", () => {
    const { container } = renderForm(async () => undefined, "en", true);
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getAllByText(XSS, { exact: false }).length).toBeGreaterThanOrEqual(2);
  });

  it("checks required fields before sending, in the user's language", async () => {
    const submit = vi.fn(async () => undefined);
    renderForm(submit, "zh");
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("此项为必填。");
    expect(submit).not.toHaveBeenCalled();
  });

  it("puts the server's problem inline on the field and sends the fixed value next time", async () => {
    const submit = vi.fn()
      .mockRejectedValueOnce(new ApiError(422, "validation_failed", "invalid", [
        { field: "phone", code: "invalid_phone", message: "is not a valid phone number" }]))
      .mockResolvedValueOnce(undefined);
    renderForm(submit);
    fireEvent.change(screen.getByLabelText(/Name/), { target: { value: "Ann" } });
    fireEvent.change(screen.getByLabelText("Mobile"), { target: { value: "12345" } });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save" })); });
    const message = await screen.findByText("is not a valid phone number");
    expect(message.closest(".form-group, .field")?.querySelector("input[type=tel]")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Mobile"), { target: { value: "13800138000" } });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save" })); });
    await waitFor(() => expect(submit).toHaveBeenCalledTimes(2));
    expect(submit.mock.calls[1][0]).toMatchObject({ name: "Ann", phone: "13800138000" });
    expect(screen.queryByText("is not a valid phone number")).toBeNull();
  });

  it("saves a demo record with empty optional fields and an odd read-only value", async () => {
    const submit = vi.fn(async () => undefined);
    const detail = demoLeadDetail();
    render(
      <I18nProvider initial="en">
        <RecordForm detail={detail} form={detail.forms[0]} submitLabel="Save" onSubmit={submit}
          initial={{ ...emptyLead(), converted_customer: "not a number" }} />
      </I18nProvider>,
    );
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save" })); });
    await waitFor(() => expect(submit).toHaveBeenCalledTimes(1));
    expect(screen.queryByText(/Please correct/)).toBeNull();
  });

  it("opens a collapsed section with an error, focuses the field and names it in the message", async () => {
    const submit = vi.fn(async () => undefined);
    const detail = demoLeadDetail();
    const { container } = render(
      <I18nProvider initial="en">
        <RecordForm detail={detail} form={detail.forms[0]} submitLabel="Save" onSubmit={submit}
          initial={{ ...emptyLead(), notes: "a note longer than ten" }} />
      </I18nProvider>,
    );
    const section = container.querySelector("details[data-section=conversion]") as HTMLDetailsElement;
    expect(section.open).toBe(false);
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save" })); });
    expect(submit).not.toHaveBeenCalled();
    expect((await screen.findByRole("alert")).textContent).toContain("Notes");
    await waitFor(() => expect(section.open).toBe(true));
    await waitFor(() => expect(document.activeElement?.id).toBe("root_notes"));
    expect(screen.getByText("At most 10 characters.")).toBeTruthy();
  });

  it("opens the collapsed section when the server's problem is on a field there", async () => {
    const submit = vi.fn().mockRejectedValueOnce(new ApiError(422, "validation_failed", "invalid", [
      { field: "notes", code: "bad", message: "not allowed here" }]));
    const detail = demoLeadDetail();
    const { container } = render(
      <I18nProvider initial="en">
        <RecordForm detail={detail} form={detail.forms[0]} submitLabel="Save" onSubmit={submit} initial={emptyLead()} />
      </I18nProvider>,
    );
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save" })); });
    await screen.findByText("not allowed here");
    await waitFor(() => expect((container.querySelector("details[data-section=conversion]") as HTMLDetailsElement).open).toBe(true));
    await waitFor(() => expect(document.activeElement?.id).toBe("root_notes"));
  });
});
