import { fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";
import type { FieldInfo, Rule } from "../api/types";
import { I18nProvider } from "../i18n";
import { fromRule, toRule, type GroupNode } from "../lib/rules";
import { RuleBuilder } from "./RuleBuilder";

const fields: FieldInfo[] = [
  { name: "next_follow_up", type: "date", label: { en: "Next follow-up", zh: "下次跟进日期" },
    operators: ["eq", "before", "within_last", "within_next", "on_weekday", "this_month", "is_empty"] },
  { name: "score", type: "integer", label: { en: "Score" }, operators: ["gt", "between"] },
];

function Harness({ onRule }: { onRule: (r: Rule | null) => void }) {
  const [value, setValue] = useState<GroupNode>(() => fromRule(null));
  return (
    <I18nProvider initial="en">
      <RuleBuilder fields={fields} value={value} onChange={(v) => { setValue(v); onRule(toRule(v, fields)); }} />
    </I18nProvider>
  );
}

describe("RuleBuilder", () => {
  it("builds relative-date, weekday, range and nested negated rules", () => {
    let rule: Rule | null = null;
    render(<Harness onRule={(r) => { rule = r; }} />);
    fireEvent.click(screen.getByRole("button", { name: "+ Condition" }));
    fireEvent.change(screen.getByLabelText("Operator"), { target: { value: "within_next" } });
    fireEvent.change(screen.getByLabelText("Amount"), { target: { value: "2" } });
    fireEvent.change(screen.getByLabelText("Unit"), { target: { value: "week" } });
    expect(rule).toEqual({ all: [{ field: "next_follow_up", op: "within_next", value: { amount: 2, unit: "week" } }] });

    fireEvent.change(screen.getByLabelText("Operator"), { target: { value: "on_weekday" } });
    fireEvent.click(screen.getByLabelText("Sat"));
    expect(rule).toEqual({ all: [{ field: "next_follow_up", op: "on_weekday", value: [1, 6] }] });

    fireEvent.change(screen.getByLabelText("Operator"), { target: { value: "this_month" } });
    expect(rule).toEqual({ all: [{ field: "next_follow_up", op: "this_month" }] });

    fireEvent.click(screen.getAllByRole("button", { name: "+ Group" })[0]);
    const inner = screen.getAllByRole("group").filter((g) => g.tagName === "FIELDSET")[1];
    fireEvent.click(within(inner).getByRole("checkbox", { name: "not" }));
    fireEvent.click(within(inner).getByRole("button", { name: "+ Condition" }));
    fireEvent.change(within(inner).getByLabelText("Field"), { target: { value: "score" } });
    fireEvent.change(within(inner).getByLabelText("Operator"), { target: { value: "between" } });
    fireEvent.change(within(inner).getByLabelText("From"), { target: { value: "10" } });
    fireEvent.change(within(inner).getByLabelText("To"), { target: { value: "20" } });
    expect(rule).toEqual({ all: [
      { field: "next_follow_up", op: "this_month" },
      { not: { any: [{ field: "score", op: "between", value: [10, 20] }] } },
    ] });
  });

  it("labels operators and fields in Chinese", () => {
    render(<I18nProvider initial="zh"><RuleBuilder fields={fields} value={fromRule({ field: "next_follow_up", op: "within_last", value: { amount: 30, unit: "day" } })} onChange={() => undefined} /></I18nProvider>);
    expect(screen.getByRole("option", { name: "下次跟进日期" })).toBeTruthy();
    expect((screen.getByLabelText("运算符") as HTMLSelectElement).selectedOptions[0].textContent).toBe("最近");
    expect((screen.getByLabelText("单位") as HTMLSelectElement).selectedOptions[0].textContent).toBe("天");
  });
});
