// @vitest-environment node
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIELD_TYPE_NAMES } from "../lib/designer";
import { WIDGETS_BY_TYPE } from "../lib/formDesigner";
import { operatorsFor } from "../lib/rules";
import { en } from "./en";
import { CATALOGS, pickLabel, translate } from "./index";
import { zh } from "./zh";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

describe("catalogs", () => {
  it("en and zh have the same keys and no empty message", () => {
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const catalog of Object.values(CATALOGS)) for (const v of Object.values(catalog)) expect(v.trim()).not.toBe("");
  });

  it("every key the source uses exists", () => {
    const used = new Set<string>();
    for (const file of sources(join(__dirname, ".."))) {
      for (const m of readFileSync(file, "utf8").matchAll(/\bt\("([a-z_]+\.[a-z_0-9]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => !(k in en));
    expect(missing).toEqual([]);
  });

  it("covers every operator, field type and widget the UI can show", () => {
    const ops = new Set<string>(["has_tag", "not_has_tag"]);
    for (const type of [...FIELD_TYPE_NAMES, "json"]) for (const op of operatorsFor({ name: "x", type, label: "x" })) ops.add(op);
    const keys = [...[...ops].map((o) => "op." + o), ...FIELD_TYPE_NAMES.map((t) => "type." + t),
      ...Object.values(WIDGETS_BY_TYPE).flat().map((w) => "widget." + w)];
    expect(keys.filter((k) => !(k in en))).toEqual([]);
  });

  it("fills placeholders and picks user labels by language with fallbacks", () => {
    expect(translate("zh", "list.count", { n: 3 })).toBe("共 3 条记录");
    expect(translate("en", "list.count", { n: 3 })).toBe("3 records");
    expect(pickLabel({ en: "Lead", zh: "线索" }, "zh")).toBe("线索");
    expect(pickLabel({ en: "Lead" }, "zh")).toBe("Lead");
    expect(pickLabel("Plain", "zh")).toBe("Plain");
    expect(pickLabel(undefined, "en", "fallback")).toBe("fallback");
  });
});
