// The shared lead pool API (/api/v1/pools): browse a pool, claim a lead, release one of mine, and
// the rep's remaining quota (holds and today's claims, both limits counters on the server's ledger).
import { request } from "./client";
import type { Label, RecordData } from "./types";

export interface PoolQuota {
  held: number;
  hold_limit: number | null;
  hold_left: number | null;
  claimed_today: number;
  daily_claim_cap: number | null;
  claims_left_today: number | null;
  resets_at: string | null;
}

export interface PoolInfo {
  name: string;
  label: Label;
  description?: Label;
  object: string;
  hold_limit?: number | null;
  daily_claim_cap?: number | null;
  return_after_days?: number | null;
  quota: PoolQuota;
}

export interface PoolPage {
  items: RecordData[];
  next_before: number | null;
  quota: PoolQuota;
}

export interface PoolMove {
  record: RecordData;
  quota: PoolQuota;
}

const enc = encodeURIComponent;

export const poolsApi = {
  async list(): Promise<PoolInfo[]> {
    return (await request<{ items: PoolInfo[] }>("GET", "/pools")).items;
  },
  async records(name: string, before?: number | null, limit = 50): Promise<PoolPage> {
    return request<PoolPage>("GET", `/pools/${enc(name)}/records`, { query: { before: before ?? undefined, limit } });
  },
  /** 409 `already_claimed` when a colleague was faster, 409 `limit_reached` naming the limit and its reset. */
  async claim(name: string, recordId: number): Promise<PoolMove> {
    return request<PoolMove>("POST", `/pools/${enc(name)}/claim`, { body: { record_id: recordId } });
  },
  async release(name: string, recordId: number, reason: string): Promise<PoolMove> {
    return request<PoolMove>("POST", `/pools/${enc(name)}/release`, { body: { record_id: recordId, reason } });
  },
};
