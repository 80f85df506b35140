// Kanban board for an object with a select field: one column per option; dragging a card (or
// choosing a column from its menu, for keyboards) changes the field through the record service
// with the card's version, so a concurrent change is reported, not overwritten.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import type { FieldInfo, RecordData } from "../api/types";
import { ErrorMessage, Loading, PageHeader, TagChips, useLoad } from "../components/common";
import { useI18n } from "../i18n";
import { formatValue } from "../lib/format";
import { Link, useRouter } from "../lib/router";

const PER_COLUMN = 50;

export function pickBoardField(fields: FieldInfo[], wanted: string | null): FieldInfo | undefined {
  const selects = fields.filter((f) => f.type === "select" && (f.options?.length ?? 0) > 0);
  return selects.find((f) => f.name === wanted) ?? selects.find((f) => f.name === "stage") ??
    selects.find((f) => f.name === "status") ?? selects[0];
}

export function KanbanPage({ object }: { object: string }) {
  const { t, label } = useI18n();
  const { search, navigate } = useRouter();
  const [message, setMessage] = useState<unknown>(null);
  const [dragOver, setDragOver] = useState<string | null>(null);
  const detail = useLoad(() => api.object(object), [object]);
  const field = detail.data ? pickBoardField(detail.data.fields, search.get("field")) : undefined;
  const board = useLoad(async () => {
    if (!field) return [] as { option: string; items: RecordData[]; count?: number }[];
    return Promise.all((field.options ?? []).map(async (option) => {
      const page = await api.listRecords(object, { filter: { field: field.name, op: "eq", value: option }, limit: PER_COLUMN,
        sort: "-id", count: true });
      return { option, items: page.items, count: page.count };
    }));
  }, [object, field?.name]);

  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data) return <Loading />;
  const d = detail.data;
  if (!field) return <p>{t("kanban.no_select")}</p>;
  const selects = d.fields.filter((f) => f.type === "select");
  const titleField = d.fields.find((f) => f.name === d.title_field);

  async function move(record: RecordData, option: string) {
    if (!field || record[field.name] === option) return;
    setMessage(null);
    try {
      let version = record.version;
      if (version === undefined) version = (await api.getRecord(object, record.id)).version;
      await api.updateRecord(object, record.id, version ?? 0, { [field.name]: option });
    } catch (e) {
      setMessage(e instanceof ApiError && e.isStale ? new Error(t("kanban.stale")) : e);
    }
    board.reload();
  }

  return (
    <div className="page">
      <PageHeader title={t("kanban.title", { object: label(d.plural_label ?? d.label, d.name) })}>
        <label className="inline">
          <span>{t("kanban.group_by")}</span>
          <select aria-label={t("kanban.group_by")} value={field.name}
            onChange={(e) => navigate(`/o/${object}/kanban?field=${encodeURIComponent(e.target.value)}`)}>
            {selects.map((f) => <option key={f.name} value={f.name}>{label(f.label, f.name)}</option>)}
          </select>
        </label>
        <Link to={`/o/${object}`} className="button">{t("kanban.list")}</Link>
      </PageHeader>
      <ErrorMessage error={message ?? board.error} />
      {!board.data ? <Loading /> : (
        <div className="kanban">
          {board.data.map((col) => (
            <section key={col.option} className={`kanban-col${dragOver === col.option ? " over" : ""}`}
              aria-label={label(field.option_labels?.[col.option], col.option)}
              data-option={col.option}
              onDragOver={(e) => { e.preventDefault(); setDragOver(col.option); }}
              onDragLeave={() => setDragOver(null)}
              onDrop={(e) => {
                e.preventDefault();
                setDragOver(null);
                const id = Number(e.dataTransfer.getData("text/plain"));
                const rec = board.data?.flatMap((c) => c.items).find((r) => r.id === id);
                if (rec) void move(rec, col.option);
              }}>
              <h2>{label(field.option_labels?.[col.option], col.option)} <span className="muted">{col.count ?? col.items.length}</span></h2>
              {col.items.map((r) => (
                <article key={r.id} className="kanban-card" draggable data-id={r.id}
                  onDragStart={(e) => { e.dataTransfer.setData("text/plain", String(r.id)); e.dataTransfer.effectAllowed = "move"; }}>
                  <Link to={`/o/${object}/${r.id}`}>{formatValue(titleField, r[d.title_field ?? "id"], label) || "#" + r.id}</Link>
                  <TagChips tags={Array.isArray(r.tags) ? r.tags : []} />
                  <label className="sr-only" htmlFor={`move-${r.id}`}>{t("kanban.move_to")}</label>
                  <select id={`move-${r.id}`} className="small" value={col.option} onChange={(e) => void move(r, e.target.value)}>
                    {(field.options ?? []).map((o) => <option key={o} value={o}>{label(field.option_labels?.[o], o)}</option>)}
                  </select>
                </article>
              ))}
            </section>
          ))}
        </div>
      )}
    </div>
  );
}
