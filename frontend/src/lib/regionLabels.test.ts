// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { FieldInfo } from "../api/types";
import { formatValue } from "./format";
import { wantedRegions } from "./titles";

const region = { name: "region", type: "region" } as FieldInfo;
const city = { name: "city", type: "text" } as FieldInfo;
const label = (_l: unknown, fallback?: string) => fallback ?? "";

describe("region values", () => {
  it("are collected once per page, free text included, other fields not", () => {
    expect(wantedRegions([region, city], [
      { id: 1, region: "440300", city: "深圳" }, { id: 2, region: "331000" }, { id: 3, region: "440300" },
      { id: 4, region: null }, { id: 5, region: "Tokyo" },
    ])).toEqual(["331000", "440300", "Tokyo"]);
  });

  it("show their name when looked up, else the value as stored", () => {
    const names: Record<string, string> = { "331000": "浙江省 台州市" };
    expect(formatValue(region, "331000", label, { region: (c) => names[c] })).toBe("浙江省 台州市");
    expect(formatValue(region, "Tokyo", label, { region: (c) => names[c] })).toBe("Tokyo");
    expect(formatValue(region, "331000", label, {})).toBe("331000");
  });
});
