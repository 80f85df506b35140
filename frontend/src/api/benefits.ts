// The member programme API (/api/v1/benefits, /api/v1/members/:id/...): what a member has left of
// each benefit, their points, and the administrators' switch and ledger. Every figure is the
// server's ledger; nothing is counted here.
import { request } from "./client";
import type { Label } from "./types";

export interface MemberBenefit {
  key: string;
  label?: Label;
  requires_code: boolean;
  enabled: boolean;
  active: boolean;
  total_left: number | null;
  member_left: number | null;
  period: string | null;
  resets_at: string | null;
}

export interface PointsLot { id: number; qty: number; remaining: number; expires_at: string }
export interface MemberPoints { balance: number; expiring_soon: number; lots: PointsLot[] }

export interface BenefitInfo {
  key: string;
  label: Label;
  description?: Label;
  requires_code?: boolean;
  per_member_limit?: { count: number; period: string; window?: string };
  state: { enabled: boolean; used: number; reserved: number; total_quota: number | null };
}

export interface LedgerLine {
  id: number;
  member_id: number | null;
  action?: string;
  outcome?: string;
  status?: string;
  qty?: number;
  at?: string;
  created_at?: string;
}

export interface BenefitLedger { redemptions: LedgerLine[]; audit: LedgerLine[]; codes: { codes: number; used_up: number } }

const enc = encodeURIComponent;

export const benefitsApi = {
  list: () => request<{ items: BenefitInfo[] }>("GET", "/benefits").then((r) => r.items),
  forMember: (id: number) => request<{ items: MemberBenefit[] }>("GET", `/members/${id}/benefits`).then((r) => r.items),
  points: (id: number) => request<MemberPoints>("GET", `/members/${id}/points`),
  setEnabled: (key: string, enabled: boolean) =>
    request<{ key: string; enabled: boolean }>("PUT", `/benefits/${enc(key)}/enabled`, { body: { enabled } }),
  ledger: (key: string) => request<BenefitLedger>("GET", `/benefits/${enc(key)}/ledger`),
};
