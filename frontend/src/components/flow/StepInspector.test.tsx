import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../../api/client";
import { I18nProvider } from "../../i18n";
import { leadDetail } from "../../test/fixtures";
import { STEPS, leadFlow } from "../../pages/workflows/fixtures";
import { StepInspector, argsSchema } from "./StepInspector";

vi.mock("../../api/client", async (orig) => {
  const real = await orig<typeof import("../../api/client")>();
  return { ...real, api: { object: vi.fn() } };
});

beforeEach(() => {
  vi.clearAllMocks();
  vi.mocked(api.object).mockResolvedValue(leadDetail());
});

function renderInspector(stepId: string, extra: Partial<Parameters<typeof StepInspector>[0]> = {}) {
  const props = {
    doc: leadFlow(), stepId, info: STEPS.find((s) => s.name === leadFlow().steps.find((x) => x.id === stepId)!.type),
    problems: [], readOnly: false, onExit: vi.fn(), onArgs: vi.fn(), onTest: vi.fn(), ...extra,
  };
  render(<I18nProvider initial="en"><StepInspector {...props} /></I18nProvider>);
  return props;
}

describe("StepInspector", () => {
  it("re-points the else branch to another step (no node deleted)", () => {
    const props = renderInspector("hot");
    const elseSelect = screen.getByLabelText("else →") as HTMLSelectElement;
    expect(elseSelect.value).toBe("wait");
    fireEvent.change(elseSelect, { target: { value: "email" } });
    expect(props.onExit).toHaveBeenCalledWith("else", "email");
  });

  it("renders the step's arguments from its JSON schema and reports edits", async () => {
    const props = renderInspector("email");
    const body = screen.getByRole("textbox", { name: /Body/ }) as HTMLInputElement;
    expect(body.value).toBe("Hello");
    fireEvent.change(body, { target: { value: "Hi {name}" } });
    await waitFor(() => expect(props.onArgs).toHaveBeenLastCalledWith(expect.objectContaining({ body: "Hi {name}", channel: "email" })));
  });

  it("tests the node on a sample record and shows the dry-run answer", async () => {
    const onTest = vi.fn().mockResolvedValue({ dry_run: true, output: { sent: false, preview: "Hello Wang" } });
    renderInspector("email", { onTest });
    fireEvent.change(screen.getByLabelText("Sample record id"), { target: { value: "12" } });
    fireEvent.click(screen.getByRole("button", { name: "Run on this record (dry run)" }));
    expect(await screen.findByText("Dry run: nothing was sent.")).toBeTruthy();
    expect(onTest).toHaveBeenCalledWith(12);
    expect(screen.getByTestId("test-result").textContent).toContain("Hello Wang");
  });

  it("is read-only when asked (phones)", () => {
    renderInspector("hot", { readOnly: true });
    expect((screen.getByLabelText("else →") as HTMLSelectElement).disabled).toBe(true);
  });

  it("leaves links and the rule out of the form schema", () => {
    const schema = argsSchema({ name: "branch", schema: { type: "object", required: ["rule", "then"], oneOf: [{}],
      properties: { rule: { type: "object" }, then: { type: "string" }, else: { type: "string" }, note: { type: "string" } } } });
    expect(schema).toEqual({ type: "object", required: [], properties: { note: { type: "string" } } });
  });
});
