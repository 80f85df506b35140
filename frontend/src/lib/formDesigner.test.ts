// @vitest-environment node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FormDoc } from "../api/types";
import { formDoc, formDraftFromDoc, mappedTags, placeEntry, removeEntry, tagList } from "./formDesigner";

const form = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, "../../../metadata/forms", name + ".json"), "utf8")) as FormDoc;

describe("form designer model", () => {
  it.each(["lead_default", "opportunity_default", "customer_default"])("round-trips %s", (name) => {
    const doc = form(name);
    const back = formDoc(formDraftFromDoc(doc));
    const norm = (d: FormDoc) => JSON.parse(JSON.stringify({ ...d, sections: d.sections.map((s) => ({ ...s, columns: s.columns === 1 ? undefined : s.columns })) }));
    expect(norm(back)).toEqual(norm(doc));
  });

  it("moves fields between sections and maps options to tags", () => {
    let draft = formDraftFromDoc({ name: "f", object: "lead", sections: [
      { key: "a", fields: ["name", "city"] }, { key: "b", fields: ["phone"] }] });
    draft = placeEntry(draft, "city", 1, 0);
    draft = placeEntry(draft, "score", 0, 9);
    draft.sections[1].entries[0].optionTags = { shanghai: "sh, east，vip", beijing: "" };
    expect(formDoc(draft).sections).toEqual([
      { key: "a", fields: ["name", "score"] },
      { key: "b", fields: [{ field: "city", option_tags: { shanghai: ["sh", "east", "vip"] } }, "phone"] },
    ]);
    expect(mappedTags(draft)).toEqual(["sh", "east", "vip"]);
    expect(formDoc(removeEntry(draft, "phone")).sections[1].fields).toHaveLength(1);
    expect(tagList(" a ,a, b ")).toEqual(["a", "b"]);
  });
});
