import { beforeEach, describe, expect, it, vi } from "vitest";
import { loadViews, migrateLocalViews, saveView } from "./views";

beforeEach(() => localStorage.clear());

describe("moving browser views to the server", () => {
  it("uploads each local view once, skips names the server has, then forgets them", async () => {
    saveView("lead", { name: "Hot", columns: ["name"], sort: "-score", rule: { field: "city", op: "eq", value: "sh" } });
    saveView("lead", { name: "Mine", columns: ["name"], sort: "", rule: null });
    const create = vi.fn().mockResolvedValue({});
    expect(await migrateLocalViews("lead", ["Mine"], create)).toBe(1);
    expect(create).toHaveBeenCalledWith({ object: "lead", name: "Hot", columns: ["name"], sort: "-score",
      filter: { field: "city", op: "eq", value: "sh" } });
    expect(loadViews("lead")).toEqual([]);
    expect(await migrateLocalViews("lead", [], create)).toBe(0);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it("keeps them when the server cannot be reached, drops one it refuses", async () => {
    saveView("lead", { name: "A", columns: [], sort: "", rule: null });
    const offline = vi.fn().mockRejectedValue({ status: 0 });
    expect(await migrateLocalViews("lead", [], offline)).toBe(0);
    expect(loadViews("lead").map((v) => v.name)).toEqual(["A"]);
    const refuses = vi.fn().mockRejectedValue({ status: 422 });
    expect(await migrateLocalViews("lead", [], refuses)).toBe(0);
    expect(loadViews("lead")).toEqual([]);
  });
});
