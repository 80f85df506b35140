// @vitest-environment node
import { describe, expect, it } from "vitest";
import { demoLeadDetail, emptyLead, leadDetail } from "../test/fixtures";
import { buildForm, changedValues, cleanValues, errorField, formDataOf, problemsToErrors, sectionOf } from "./formSchema";

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

describe("form schema for editing demo records (empty optional fields, read-only, collapsed sections)", () => {
  it("lets every optional field be empty: null is valid and a null value is left out of the form data", async () => {
    const { default: validator } = await import("@rjsf/validator-ajv8");
    const built = buildForm(demoLeadDetail(), demoLeadDetail().forms[0], "en");
    const props = built.schema.properties as Record<string, Record<string, unknown>>;
    for (const name of ["phone", "score", "email", "budget", "next_follow_up", "captured_at", "consent", "notes"]) {
      expect(props[name].type, name).toContain("null");
    }
    expect(props.name.type).toBe("string"); // required: null stays wrong
    const record = emptyLead();
    expect(validator.validateFormData(formDataOf(record), built.schema).errors).toEqual([]);
    const { city: _city, ...withNulls } = record; // the API's nulls as they are (a select is left out: see formDataOf)
    expect(validator.validateFormData(withNulls, built.schema).errors).toEqual([]);
    expect(formDataOf(record)).not.toHaveProperty("email");
    const missingName = validator.validateFormData(formDataOf({ ...record, name: null }), built.schema).errors;
    expect(missingName.map((e) => [errorField(e.property), e.name])).toEqual([["name", "required"]]);
    const wrong = validator.validateFormData({ ...formDataOf(record), budget: "12,5", notes: "far too long text" }, built.schema);
    expect(wrong.errors.map((e) => errorField(e.property)).sort()).toEqual(["budget", "notes"]);
  });

  it("never checks read-only fields and never sends them", () => {
    const detail = demoLeadDetail();
    const built = buildForm(detail, detail.forms[0], "en");
    expect(built.readonly).toEqual(["converted_customer"]);
    const conv = (built.schema.properties as Record<string, Record<string, unknown>>).converted_customer;
    expect(conv).toEqual({ title: "Converted to customer", type: ["integer", "null"] });
    expect((built.uiSchema.converted_customer as Record<string, unknown>)["ui:readonly"]).toBe(true);
    // a field read-only by its definition is never required in the browser either
    detail.fields[0].readonly = true;
    expect(buildForm(detail, detail.forms[0], "en").schema.required).toBeUndefined();
  });

  it("knows which section holds a field, collapsed or not", () => {
    const built = buildForm(demoLeadDetail(), demoLeadDetail().forms[0], "en");
    expect(sectionOf(built.sections, "notes")).toMatchObject({ key: "conversion", collapsed: true });
    expect(sectionOf(built.sections, "name")).toMatchObject({ key: "basics", collapsed: false });
    expect(errorField(".notes")).toBe("notes");
    expect(errorField(".interests.0")).toBe("interests");
    expect(errorField("email")).toBe("email");
  });
});
