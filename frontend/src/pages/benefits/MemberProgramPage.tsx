// A member's programme page: their tier, points (and what expires soon), and for each benefit the
// remaining count this period, or "disabled" when an administrator switched it off.
import { benefitsApi, type MemberBenefit } from "../../api/benefits";
import { api } from "../../api/client";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { formatDateTime } from "../../lib/format";
import { Link } from "../../lib/router";
import { BENEFIT_TEXT as T } from "./benefitText";

export function remainingText(b: MemberBenefit, label: ReturnType<typeof useI18n>["label"]): string {
  if (!b.enabled) return label(T.disabled);
  if (!b.active) return label(T.notActive);
  if (b.member_left === null) return b.total_left === null ? label(T.unlimited) : `${b.total_left} ${label(T.left)}`;
  const period = (b.period && b.period in T ? T[b.period as keyof typeof T] : null);
  return `${b.member_left} ${label(T.left)}${period ? " " + label(period) : ""}`;
}

export function MemberProgramPage({ id }: { id: number }) {
  const { label, lang } = useI18n();
  const member = useLoad(() => api.getRecord("member", id), [id]);
  const points = useLoad(() => benefitsApi.points(id), [id]);
  const benefits = useLoad(() => benefitsApi.forMember(id), [id]);
  const error = member.error ?? points.error ?? benefits.error;
  if (error) return <ErrorMessage error={error} />;
  if (!member.data || !points.data || !benefits.data) return <Loading />;
  const record = member.data as unknown as Record<string, unknown>;
  return (
    <div className="page">
      <PageHeader title={`${label(T.programme)}: ${String(record.member_no ?? id)}`}>
        <Link to={`/o/member/${id}`}>{label(T.back)}</Link>
      </PageHeader>
      <dl className="summary" data-testid="member-summary">
        <dt>{label(T.tier)}</dt><dd>{String(record.tier ?? "—")}</dd>
        <dt>{label(T.points)}</dt>
        <dd data-testid="member-points">{points.data.balance}
          {points.data.expiring_soon > 0 && <span className="muted"> ({points.data.expiring_soon} {label(T.expiringSoon)})</span>}
        </dd>
      </dl>
      <h2>{label(T.benefits)}</h2>
      <table className="table" data-testid="member-benefits">
        <tbody>
          {benefits.data.map((b) => (
            <tr key={b.key} data-benefit={b.key}>
              <th scope="row">{label(b.label ?? b.key, b.key)}{b.requires_code && <span className="muted"> ({label(T.coupon)})</span>}</th>
              <td className={b.enabled ? "" : "muted"}>{remainingText(b, label)}</td>
              <td className="muted">{b.enabled && b.resets_at ? `${label(T.resets)} ${formatDateTime(b.resets_at, lang)}` : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
