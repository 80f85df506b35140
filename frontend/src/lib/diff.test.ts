// @vitest-environment node
import { describe, expect, it } from "vitest";
import { diffLines, stableJson } from "./diff";

describe("definition diff", () => {
  it("shows added and removed lines only where documents differ", () => {
    const a = stableJson({ b: 1, a: { x: [1, 2] } });
    const b = stableJson({ a: { x: [1, 3] }, b: 1 });
    const lines = diffLines(a, b);
    expect(lines.filter((l) => l.op !== " ").map((l) => l.op + l.text.trim())).toEqual(["-2", "+3"]);
    expect(diffLines("", "x")).toEqual([{ op: "+", text: "x" }]);
  });
});
