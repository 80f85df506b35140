// The shared lead pool (公海): reps browse unowned leads, claim one (exactly one of two rivals wins;
// the server refuses past the hold limit or today's claim cap, naming the limit and its reset), and
// put one of theirs back with a reason. The quota shown is the server's ledger, never a local count.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import { type PoolInfo, type PoolQuota, poolsApi } from "../api/pools";
import type { FieldInfo, ObjectDetail, RecordData } from "../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../components/common";
import { useI18n } from "../i18n";
import { formatDateTime, formatValue } from "../lib/format";
import { Link } from "../lib/router";
import { useSession } from "../session";
import { defaultColumns } from "./ListPage";

/** "3 / 50" or "3" when the pool sets no limit. */
export function usage(used: number, limit: number | null): string {
  return limit === null || limit === undefined ? String(used) : `${used} / ${limit}`;
}

/** The translated reason of a refused claim: which limit, and when the daily one resets. */
export function refusal(error: unknown, t: ReturnType<typeof useI18n>["t"], quota: PoolQuota | null, lang?: string): string | null {
  if (!(error instanceof ApiError)) return null;
  if (error.code === "already_claimed") return t("pool.already_claimed");
  if (error.code === "limit_reached") {
    const which = error.problems[0]?.field;
    if (which === "hold_limit") return t("pool.hold_full", { n: quota?.hold_limit ?? "" });
    if (which === "daily_claim_cap") {
      return t("pool.cap_reached", { n: quota?.daily_claim_cap ?? "", at: quota?.resets_at ? formatDateTime(quota.resets_at, lang) : "" });
    }
  }
  return null;
}

export function PoolPage({ name }: { name?: string }) {
  const { t, label } = useI18n();
  const pools = useLoad(() => poolsApi.list(), []);
  if (pools.error) return <ErrorMessage error={pools.error} />;
  if (!pools.data) return <Loading />;
  if (!pools.data.length) return <p>{t("pool.none")}</p>;
  const pool = pools.data.find((p) => p.name === name) ?? pools.data[0];
  return (
    <div className="page">
      <PageHeader title={label(pool.label, pool.name)} />
      {pools.data.length > 1 && (
        <nav className="tabs" aria-label={t("pool.title")}>
          {pools.data.map((p) => (
            <Link key={p.name} to={`/pools/${p.name}`} className={p.name === pool.name ? "active" : ""}>{label(p.label, p.name)}</Link>
          ))}
        </nav>
      )}
      {pool.description && <p className="muted">{label(pool.description)}</p>}
      <PoolBody key={pool.name} pool={pool} />
    </div>
  );
}

function PoolBody({ pool }: { pool: PoolInfo }) {
  const { t, label, lang } = useI18n();
  const { me } = useSession();
  const detail = useLoad(() => api.object(pool.object), [pool.object]);
  const page = useLoad(() => poolsApi.records(pool.name), [pool.name]);
  const mine = useLoad(() => (me ? api.listRecords(pool.object, { filter: { field: "owner_id", op: "eq", value: me.id }, limit: 50, sort: "-id" })
    : Promise.resolve({ items: [], next_cursor: null })), [pool.object, me?.id]);
  const [quota, setQuota] = useState<PoolQuota>(pool.quota);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [releasing, setReleasing] = useState<RecordData | null>(null);
  const [reason, setReason] = useState("");

  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data || !page.data) return <Loading />;
  const obj: ObjectDetail = detail.data;
  const byName = new Map(obj.fields.map((f) => [f.name, f]));
  const columns = defaultColumns(obj).map((c) => byName.get(c)).filter((f): f is FieldInfo => !!f);
  const titleOf = (r: RecordData) => String(r[obj.title_field ?? ""] ?? `#${r.id}`);
  const mayClaim = me?.is_admin || me?.permissions?.[pool.object]?.update;

  async function claim(record: RecordData) {
    setBusy(record.id); setError(null); setMessage(null);
    try {
      const done = await poolsApi.claim(pool.name, record.id);
      setQuota(done.quota);
      setMessage(t("pool.claimed", { title: titleOf(record) }));
      page.reload(); mine.reload();
    } catch (e) {
      const text = refusal(e, t, quota, lang);
      if (text) setMessage(text); else setError(e);
      if (e instanceof ApiError && e.code === "already_claimed") page.reload();
    } finally { setBusy(null); }
  }

  async function release() {
    if (!releasing || !reason.trim()) return;
    setBusy(releasing.id); setError(null); setMessage(null);
    try {
      const done = await poolsApi.release(pool.name, releasing.id, reason.trim());
      setQuota(done.quota);
      setMessage(t("pool.released", { title: titleOf(releasing) }));
      setReleasing(null); setReason("");
      page.reload(); mine.reload();
    } catch (e) { setError(e); } finally { setBusy(null); }
  }

  const cell = (r: RecordData, f: FieldInfo) => formatValue(f, r[f.name], label);
  return (
    <>
      <p className="pool-quota" data-testid="pool-quota">
        <span>{t("pool.holding", { n: usage(quota.held, quota.hold_limit) })}</span>
        {" · "}
        <span>{t("pool.claimed_today", { n: usage(quota.claimed_today, quota.daily_claim_cap) })}</span>
        {pool.return_after_days ? <>{" · "}<span className="muted">{t("pool.returns", { days: pool.return_after_days })}</span></> : null}
      </p>
      {message && <p role="status" className="alert">{message}</p>}
      <ErrorMessage error={error} />
      <section>
        <h2>{t("pool.available")}</h2>
        {page.data.items.length === 0 ? <p className="muted">{t("pool.empty")}</p> : (
          <div className="table-wrap">
            <table className="records">
              <thead><tr>{columns.map((f) => <th key={f.name}>{label(f.label, f.name)}</th>)}<th /></tr></thead>
              <tbody>
                {page.data.items.map((r) => (
                  <tr key={r.id}>
                    {columns.map((f) => <td key={f.name} data-label={label(f.label, f.name)}>{cell(r, f)}</td>)}
                    <td>{mayClaim && (
                      <button type="button" disabled={busy !== null} onClick={() => { void claim(r); }}
                        aria-label={t("pool.claim_one", { title: titleOf(r) })}>{t("pool.claim")}</button>
                    )}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section>
        <h2>{t("pool.mine")}</h2>
        {mine.error ? <ErrorMessage error={mine.error} /> : !mine.data ? <Loading /> : mine.data.items.length === 0
          ? <p className="muted">{t("pool.none_mine")}</p> : (
          <ul className="plain-list">
            {mine.data.items.map((r) => (
              <li key={r.id}>
                <Link to={`/o/${pool.object}/${r.id}`}>{titleOf(r)}</Link>{" "}
                <button type="button" className="link" disabled={busy !== null}
                  onClick={() => { setReleasing(r); setReason(""); }}>{t("pool.release")}</button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {releasing && (
        <div role="dialog" aria-modal="true" aria-label={t("pool.release_title", { title: titleOf(releasing) })} className="dialog">
          <h3>{t("pool.release_title", { title: titleOf(releasing) })}</h3>
          <label>{t("pool.reason")}
            <textarea value={reason} maxLength={500} required onChange={(e) => setReason(e.target.value)} />
          </label>
          <div className="actions">
            <button type="button" disabled={!reason.trim() || busy !== null} onClick={() => { void release(); }}>{t("pool.release")}</button>
            <button type="button" className="link" onClick={() => setReleasing(null)}>{t("pool.cancel")}</button>
          </div>
        </div>
      )}
    </>
  );
}
