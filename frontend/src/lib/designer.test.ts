// @vitest-environment node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { draftFromDoc, draftProblems, emptyField, emptyObject, moveItem, objectDoc, slugify } from "./designer";

const pack = (kind: string, name: string) =>
  JSON.parse(readFileSync(join(__dirname, "../../../metadata", kind, name + ".json"), "utf8")) as Record<string, unknown>;

describe("object designer model", () => {
  it.each(["lead", "opportunity", "customer", "account", "activity", "channel"])(
    "round-trips the standard pack's %s definition", (name) => {
      const doc = pack("objects", name);
      expect(objectDoc(draftFromDoc(doc))).toEqual({ ...doc });
    });

  it("builds the trade show lead of the e2e scenario", () => {
    const draft = { ...emptyObject(), name: slugify("Trade show lead"), labelEn: "Trade show lead", labelZh: "展会线索" };
    const booth = { ...emptyField("select"), name: "interest", labelEn: "Interest",
      options: [{ value: "hot", en: "Hot", zh: "热" }, { value: "cold", en: "Cold", zh: "" }] };
    draft.fields = [{ ...emptyField("text"), name: "name", labelEn: "Name", required: true }, booth,
      { ...emptyField("phone"), name: "phone", labelEn: "Phone", unique: true }];
    expect(draft.name).toBe("trade_show_lead");
    expect(draftProblems(draft)).toEqual([]);
    expect(objectDoc(draft)).toEqual({
      $id: "trade_show_lead", title: "Trade show lead", "x-label": { en: "Trade show lead", zh: "展会线索" },
      "x-title-field": "name", type: "object", required: ["name"],
      properties: {
        name: { "x-field": "text", "x-label": { en: "Name" } },
        interest: { "x-field": "select", "x-label": { en: "Interest" }, enum: ["hot", "cold"],
          "x-option-labels": { hot: { en: "Hot", zh: "热" }, cold: { en: "Cold" } } },
        phone: { "x-field": "phone", "x-label": { en: "Phone" }, "x-unique": true },
      },
    });
  });

  it("finds problems before asking the server", () => {
    const draft = { ...emptyObject(), name: "Bad Name", fields: [{ ...emptyField("select"), name: "x" }, { ...emptyField("relation"), name: "x" }] };
    expect(draftProblems(draft)).toEqual(["object_name", "options:x", "duplicate:x", "target:x"]);
    expect(moveItem([1, 2, 3], 0, 2)).toEqual([2, 3, 1]);
    expect(slugify("  2 Fast! ")).toBe("f_2_fast");
  });
});
