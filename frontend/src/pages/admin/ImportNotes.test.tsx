import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { I18nProvider } from "../../i18n";
import { ImportNotes } from "./ImportPage";

const note = { field: "next_follow_up", header: "下次跟进", code: "time_dropped", rows: 3,
  message: "3 value(s) of '下次跟进' had a time of day; the date field 'next_follow_up' keeps the date only" };

describe("ImportNotes", () => {
  it("says per column that a time of day was dropped, in the user's language", () => {
    render(<I18nProvider initial="zh"><ImportNotes notes={[note]} /></I18nProvider>);
    expect(screen.getByTestId("import-notes").textContent).toBe("“下次跟进”列有 3 个值带有时间：日期字段 next_follow_up 只保留日期。");
  });

  it("shows an unknown note's own message and nothing when there are none", () => {
    const { container, rerender } = render(<I18nProvider initial="en"><ImportNotes notes={[{ ...note, code: "other", message: "Something else" }]} /></I18nProvider>);
    expect(screen.getByTestId("import-notes").textContent).toBe("Something else");
    rerender(<I18nProvider initial="en"><ImportNotes notes={[]} /></I18nProvider>);
    expect(container.textContent).toBe("");
  });
});
