// The trash of one object: soft-deleted records in the caller's scope, newest deleted first, each
// with Restore (for whoever may delete records of the object).
import { useState } from "react";
import { api } from "../api/client";
import { restore, trash } from "../api/recordTools";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../components/common";
import { When } from "../components/Timeline";
import { useI18n } from "../i18n";
import { Link } from "../lib/router";

export function TrashPage({ object }: { object: string }) {
  const { t, label } = useI18n();
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const detail = useLoad(() => api.object(object), [object]);
  const page = useLoad(() => trash(object), [object]);
  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data) return <Loading />;
  const d = detail.data;
  const titleOf = (r: Record<string, unknown>) => String(r[d.title_field ?? "id"] ?? "#" + String(r.id));

  return (
    <div className="page">
      <PageHeader title={t("trash.title", { object: label(d.plural_label ?? d.label, d.name) })}>
        <Link to={`/o/${object}`} className="button">{t("record.back")}</Link>
      </PageHeader>
      {message && <p className="alert alert-ok" role="status">{message}</p>}
      <ErrorMessage error={error ?? page.error} />
      {page.loading && !page.data && <Loading />}
      {page.data && !page.data.items.length && <p className="muted">{t("trash.empty")}</p>}
      {page.data && page.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="records">
            <thead>
              <tr><th scope="col">{label(d.label, d.name)}</th><th scope="col">{t("trash.deleted_at")}</th><th scope="col" /></tr>
            </thead>
            <tbody>
              {page.data.items.map((r) => (
                <tr key={r.id}>
                  <td>{titleOf(r)}</td>
                  <td data-label={t("trash.deleted_at")}><When at={String(r.deleted_at ?? "")} /></td>
                  <td>
                    <button type="button" onClick={() => {
                      setError(null);
                      restore(object, r.id).then(() => {
                        setMessage(t("trash.restored", { title: titleOf(r) }));
                        page.reload();
                      }, setError);
                    }}>{t("trash.restore")}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
