// @vitest-environment node
import { describe, expect, it } from "vitest";
import { leadDetail } from "../test/fixtures";
import { buildForm, changedValues, cleanValues, problemsToErrors } from "./formSchema";

describe("form schema from object + form definition", () => {
  it("orders fields by the layout, labels them in the language and strips x- keywords", () => {
    const detail = leadDetail();
    const built = buildForm(detail, detail.forms[0], "zh");
    expect(built.uiSchema["ui:order"]).toEqual(["name", "city", "phone", "score", "*"]);
    const props = built.schema.properties as Record<string, Record<string, unknown>>;
    expect(props.name).toMatchObject({ type: "string", title: "姓名", maxLength: 100 });
    expect(Object.keys(props.city).some((k) => k.startsWith("x-"))).toBe(false);
    expect(props.city.enum).toEqual(["shanghai", "beijing"]);
    expect((built.uiSchema.city as Record<string, unknown>)["ui:enumNames"]).toEqual(["上海", "北京"]);
    expect(props.phone.description).toBe("手机号码");
    expect((built.uiSchema.phone as Record<string, unknown>)["ui:widget"]).toBe("PhoneWidget");
    expect(built.schema.required).toEqual(["name"]);
    expect(built.sections.map((s) => [s.label, s.fields])).toEqual([["基本信息", ["name", "city"]], ["联系方式", ["phone", "score"]]]);
    expect("interests" in props).toBe(false);
  });

  it("without a form shows every field in one section", () => {
    const built = buildForm(leadDetail(), null, "en");
    expect(built.sections).toHaveLength(1);
    expect(built.sections[0].fields).toEqual(["name", "phone", "city", "score", "interests"]);
    const interests = (built.schema.properties as Record<string, Record<string, unknown>>).interests;
    expect(interests).toMatchObject({ type: "array", items: { type: "string", enum: ["travel", "food"] }, uniqueItems: true });
  });

  it("puts server problems on their fields", () => {
    const { errors, unplaced } = problemsToErrors([
      { field: "phone", code: "invalid_phone", message: "is not a phone number" },
      { field: "/score", code: "maximum", message: "too big" },
      { field: "version", code: "stale_version", message: "stale" },
    ], ["phone", "score"]);
    expect(errors).toEqual({ phone: { __errors: ["is not a phone number"] }, score: { __errors: ["too big"] } });
    expect(unplaced.map((p) => p.code)).toEqual(["stale_version"]);
  });

  it("sends only changed values and no empty strings", () => {
    expect(changedValues({ name: "a", city: "x", score: null }, { name: "a", city: "y", score: undefined }, ["name", "city", "score"]))
      .toEqual({ city: "y" });
    expect(cleanValues({ a: "", b: undefined, c: 0, d: false })).toEqual({ c: 0, d: false });
  });
});
