// Administrators switch benefits on and off (a new definition version, effective from the next
// redemption) and see each benefit's latest redemptions and refused attempts.
import { useState } from "react";
import { benefitsApi, type BenefitInfo } from "../../api/benefits";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { AdminNav } from "../admin/AdminOnly";
import { BENEFIT_TEXT as T } from "./benefitText";

export function BenefitsAdminPage() {
  const { label } = useI18n();
  const list = useLoad(() => benefitsApi.list(), []);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  if (list.error) return <ErrorMessage error={list.error} />;
  if (!list.data) return <Loading />;

  async function toggle(b: BenefitInfo) {
    setError(null);
    try {
      await benefitsApi.setEnabled(b.key, !b.state.enabled);
      list.reload();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <div className="page">
      <PageHeader title={label(T.adminTitle)} />
      <AdminNav />
      <ErrorMessage error={error} />
      <table className="table" data-testid="benefits-admin">
        <tbody>
          {list.data.map((b) => (
            <tr key={b.key} data-benefit={b.key}>
              <th scope="row">{label(b.label, b.key)}</th>
              <td>{b.state.enabled ? label(T.on) : label(T.off)}</td>
              <td>{label(T.used)} {b.state.used}{b.state.total_quota !== null ? ` / ${b.state.total_quota}` : ""}</td>
              <td>
                <button type="button" onClick={() => { void toggle(b); }}
                  aria-label={`${b.state.enabled ? label(T.switchOff) : label(T.switchOn)} ${label(b.label, b.key)}`}>
                  {b.state.enabled ? label(T.switchOff) : label(T.switchOn)}
                </button>{" "}
                <button type="button" className="link" onClick={() => setOpen(open === b.key ? null : b.key)}>{label(T.ledger)}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && <Ledger key={open} benefit={open} />}
    </div>
  );
}

function Ledger({ benefit }: { benefit: string }) {
  const { label } = useI18n();
  const ledger = useLoad(() => benefitsApi.ledger(benefit), [benefit]);
  if (ledger.error) return <ErrorMessage error={ledger.error} />;
  if (!ledger.data) return <Loading />;
  return (
    <section aria-label={label(T.ledger)}>
      <h2>{label(T.ledger)}: {benefit}</h2>
      <table className="table">
        <tbody>
          {ledger.data.redemptions.map((r) => (
            <tr key={"r" + r.id}><td>#{r.id}</td><td>{label(T.member)} {r.member_id}</td><td>{r.status}</td><td>{r.qty}</td><td>{r.created_at}</td></tr>
          ))}
          {ledger.data.audit.filter((a) => a.outcome !== "ok").map((a) => (
            <tr key={"a" + a.id} className="muted"><td>{a.action}</td><td>{label(T.member)} {a.member_id ?? "—"}</td><td>{a.outcome}</td><td /><td>{a.at}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
