import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "../api/client";
import { poolsApi } from "../api/pools";
import { I18nProvider, type Language } from "../i18n";
import { Router } from "../lib/router";
import { XSS, leadDetail } from "../test/fixtures";
import { PoolPage, usage } from "./PoolPage";

vi.mock("../session", () => ({
  useSession: () => ({ me: { id: 7, is_admin: false, permissions: { lead: { read: true, update: true } } }, objects: [] }),
}));
vi.mock("../api/client", async (orig) => {
  const real = await orig<typeof import("../api/client")>();
  return { ...real, api: { object: vi.fn(), listRecords: vi.fn() } };
});
vi.mock("../api/pools", () => ({ poolsApi: { list: vi.fn(), records: vi.fn(), claim: vi.fn(), release: vi.fn() } }));

const mockedApi = vi.mocked(api);
const pools = vi.mocked(poolsApi);
const quota = { held: 2, hold_limit: 50, hold_left: 48, claimed_today: 1, daily_claim_cap: 30, claims_left_today: 29,
  resets_at: "2026-12-04T00:00:00Z" };

function renderPool(lang: Language = "en") {
  return render(<I18nProvider initial={lang}><Router><PoolPage /></Router></I18nProvider>);
}

beforeEach(() => {
  vi.clearAllMocks();
  mockedApi.object.mockResolvedValue(leadDetail());
  mockedApi.listRecords.mockResolvedValue({ items: [{ id: 9, name: "Mine Ltd" }], next_cursor: null });
  pools.list.mockResolvedValue([{ name: "public_pool", label: { en: "Public lead pool", zh: "线索公海" }, object: "lead",
    return_after_days: 14, quota }]);
  pools.records.mockResolvedValue({ items: [{ id: 1, name: XSS, city: "shanghai" }, { id: 2, name: "Wang", city: "beijing" }],
    next_before: null, quota });
});

describe("PoolPage", () => {
  it("lists the pool with the quota from the server and only my own leads to release", async () => {
    const { container } = renderPool();
    await screen.findByText(XSS);
    expect(container.querySelector("tbody img")).toBeNull();
    expect(screen.getByTestId("pool-quota").textContent).toContain("Holding 2 / 50");
    expect(screen.getByTestId("pool-quota").textContent).toContain("Claimed today 1 / 30");
    await screen.findByText("Mine Ltd");
    expect(mockedApi.listRecords).toHaveBeenCalledWith("lead", expect.objectContaining({ filter: { field: "owner_id", op: "eq", value: 7 } }));
  });

  it("claims a lead and shows the new quota", async () => {
    pools.claim.mockResolvedValue({ record: { id: 2, name: "Wang" }, quota: { ...quota, held: 3, claimed_today: 2 } });
    renderPool();
    fireEvent.click(await screen.findByRole("button", { name: "Claim Wang" }));
    await screen.findByText("Wang is yours now.");
    expect(pools.claim).toHaveBeenCalledWith("public_pool", 2);
    expect(screen.getByTestId("pool-quota").textContent).toContain("Holding 3 / 50");
    expect(pools.records).toHaveBeenCalledTimes(2);
  });

  it("explains a refused claim in the user's language, naming the limit", async () => {
    pools.claim.mockRejectedValue(new ApiError(409, "limit_reached", "daily_claim_cap: taking 1 would pass the limit of 30",
      [{ field: "daily_claim_cap", code: "limit_reached", message: "x" }]));
    renderPool("zh");
    fireEvent.click(await screen.findByRole("button", { name: "领取 Wang" }));
    await screen.findByText(/今日领取已达上限（30）/);
  });

  it("releases one of mine only with a reason", async () => {
    pools.release.mockResolvedValue({ record: { id: 9 }, quota: { ...quota, held: 1 } });
    renderPool();
    fireEvent.click(await screen.findByRole("button", { name: "Release" }));
    const dialog = await screen.findByRole("dialog");
    const confirm = dialog.querySelector("button") as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    fireEvent.change(dialog.querySelector("textarea") as HTMLTextAreaElement, { target: { value: "wrong region" } });
    fireEvent.click(confirm);
    await waitFor(() => expect(pools.release).toHaveBeenCalledWith("public_pool", 9, "wrong region"));
    await screen.findByText("Mine Ltd went back to the pool.");
  });

  it("formats usage with and without a limit", () => {
    expect(usage(3, 50)).toBe("3 / 50");
    expect(usage(3, null)).toBe("3");
  });
});
