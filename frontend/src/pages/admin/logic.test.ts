import { describe, expect, it } from "vitest";
import type { ImportJob, ImportPreview } from "../../api/admin";
import {
  KEEP, defaultKeep, differingFields, doubleMapped, fieldRule, initialDecisions, mappingOf, missingRequired,
  rowCells, secondsLeft, setFieldRule, toggleVerb,
} from "./logic";

const preview: ImportPreview = {
  headers: ["姓名", "手机", "备注", "Junk"],
  rows: [["张三", "138", "x", ""]],
  total_rows: 1,
  suggested_mapping: { "姓名": "name", "手机": "phone" },
  mapping_details: [],
  unmapped_columns: [],
  keep_field: "notes",
  missing_required: [],
  fields: [
    { name: "name", type: "text", label: { en: "Name" }, required: true, options: [] },
    { name: "phone", type: "phone", label: { en: "Phone" }, required: false, options: [] },
    { name: "company", type: "text", label: { en: "Company" }, required: true, options: [] },
  ],
};

describe("import mapping", () => {
  it("starts from the suggestions and keeps the other columns", () => {
    const d = initialDecisions(preview);
    expect(d).toEqual({ "姓名": "name", "手机": "phone", "备注": KEEP, Junk: KEEP });
    expect(initialDecisions({ ...preview, keep_field: null }).Junk).toBe("");
  });

  it("sends mapped columns, null for ignored ones and leaves kept ones out", () => {
    expect(mappingOf({ a: "name", b: "", c: KEEP })).toEqual({ a: "name", b: null });
  });

  it("finds double mappings and missing required fields", () => {
    expect(doubleMapped({ a: "name", b: "name", c: "phone", d: KEEP, e: KEEP })).toEqual(["name"]);
    expect(missingRequired(preview, initialDecisions(preview))).toEqual(["company"]);
  });

  it("reads rows as lists or objects", () => {
    expect(rowCells({ ...preview, rows: [{ "姓名": "李", "手机": "1" }] })[0]).toEqual(["李", "1", undefined, undefined]);
    expect(rowCells(preview)[0][0]).toBe("张三");
  });

  it("estimates time left from the rate", () => {
    const job = { id: 1, object: "lead", status: "running", total_rows: 1000, rows_done: 400, percent: 40, rate: 100 } as ImportJob;
    expect(secondsLeft(job)).toBe(6);
    expect(secondsLeft({ ...job, status: "done" })).toBeNull();
    expect(secondsLeft({ ...job, rate: null })).toBeNull();
  });
});

describe("duplicate review", () => {
  const left = { id: 1, name: "Rita", email: "", phone: "1", tags: [] };
  const right = { id: 2, name: "Rita M", email: "r@x.cn", phone: "1", tags: undefined };
  it("lists differing fields, empty values being equal", () => {
    expect(differingFields(left, right, ["name", "email", "phone", "tags"])).toEqual(["name", "email"]);
  });
  it("keeps the survivor's value unless it is empty", () => {
    expect(defaultKeep(left, right, 1, ["name", "email", "phone"])).toEqual({ name: 1, email: 2 });
    expect(defaultKeep(left, right, 2, ["name", "email"])).toEqual({ name: 2, email: 2 });
  });
});

describe("role grants", () => {
  it("toggles verbs, adding read with any verb and dropping an empty grant", () => {
    let g = toggleVerb([], "lead", "update");
    expect(g).toEqual([{ object: "lead", verbs: ["read", "update"], scope: "own", hidden_fields: [], readonly_fields: [] }]);
    g = toggleVerb(g, "lead", "create");
    expect(g[0].verbs).toEqual(["read", "create", "update"]);
    expect(toggleVerb(g, "lead", "read")).toEqual([]);
  });
  it("sets one rule per field", () => {
    let g = toggleVerb([], "lead", "read");
    g = setFieldRule(g, "lead", "email", "hidden");
    expect(fieldRule(g[0], "email")).toBe("hidden");
    g = setFieldRule(g, "lead", "email", "readonly");
    expect(g[0].hidden_fields).toEqual([]);
    expect(fieldRule(g[0], "email")).toBe("readonly");
    expect(fieldRule(setFieldRule(g, "lead", "email", "edit")[0], "email")).toBe("edit");
  });
});

describe("why a pair matched", async () => {
  const { percent, reasonText } = await import("./DuplicatesPage");
  it("names the rules and the compared fields, the score in percent", () => {
    const c = { id: 1, object: "lead", left_id: 1, right_id: 2, status: "pending", left: null, right: null,
      rules: ["similar_name_same_company"], fields: ["company", "name"], score: 0.83 };
    expect(reasonText(c, (n) => n.toUpperCase())).toBe("similar name same company (COMPANY, NAME)");
    expect(percent(0.83)).toBe(83);
    expect(percent(undefined)).toBe(0);
  });
});
