import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/client";
import { I18nProvider } from "../i18n";
import { XSS, leadDetail } from "../test/fixtures";
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
});
