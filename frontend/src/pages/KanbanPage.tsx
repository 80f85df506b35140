// Kanban board for an object with a select field: one column per option; dragging a card (or
// choosing a column from its menu, for keyboards) changes the field through the record service
// with the card's version, so a concurrent change is reported, not overwritten.
// When a pipeline serves the field (/api/v1/pipelines), the columns are its stages with count,
// Σ amount and weighted Σ in the header; a drop on a stage that needs fields the card lacks opens
// a dialog, and stage, fields and the column's card order are saved in one request. A refused
// move leaves the card where it was and shows the server's message.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import { type BoardColumn, type PipelineInfo, pipelinesApi } from "../api/pipelines";
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

interface Column { option: string; items: RecordData[]; count?: number; head?: BoardColumn }
interface Pending { record: RecordData; column: Column; missing: FieldInfo[]; values: Record<string, string> }

const TEXT = {
  amount: { en: "Amount", zh: "金额" },
  weighted: { en: "Weighted", zh: "加权" },
  pipeline: { en: "Pipeline", zh: "销售流程" },
  needs: { en: "Moving to {stage} needs:", zh: "移到「{stage}」需要填写：" },
  save: { en: "Save and move", zh: "保存并移动" },
  cancel: { en: "Cancel", zh: "取消" },
  refused: { en: "The card was not moved", zh: "卡片未移动" },
};

function empty(value: unknown): boolean {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

function inputType(f: FieldInfo): string {
  if (f.type === "integer" || f.type === "decimal") return "number";
  if (f.type === "date") return "date";
  return "text";
}

export function KanbanPage({ object }: { object: string }) {
  const { t, label } = useI18n();
  const { search, navigate } = useRouter();
  const [message, setMessage] = useState<unknown>(null);
  const [dragOver, setDragOver] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const detail = useLoad(() => api.object(object), [object]);
  const pipelines = useLoad(() => pipelinesApi.list().catch(() => [] as PipelineInfo[]), []);
  const field = detail.data ? pickBoardField(detail.data.fields, search.get("field")) : undefined;
  const serving = (pipelines.data ?? []).filter((p) => p.object === object && p.stage_field === field?.name);
  const pipeline = serving.find((p) => p.name === search.get("pipeline")) ?? serving[0];
  const board = useLoad(async (): Promise<Column[]> => {
    if (!field || !pipelines.data) return [];
    if (pipeline) {
      const cols = await pipelinesApi.board(pipeline.name, PER_COLUMN);
      return cols.map((c) => ({ option: c.stage, items: c.cards, count: c.count, head: c }));
    }
    return Promise.all((field.options ?? []).map(async (option) => {
      const page = await api.listRecords(object, { filter: { field: field.name, op: "eq", value: option }, limit: PER_COLUMN,
        sort: "-id", count: true });
      return { option, items: page.items, count: page.count };
    }));
  }, [object, field?.name, pipeline?.name, pipelines.data]);

  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data || !pipelines.data) return <Loading />;
  const d = detail.data;
  if (!field) return <p>{t("kanban.no_select")}</p>;
  const selects = d.fields.filter((f) => f.type === "select");
  const titleField = d.fields.find((f) => f.name === d.title_field);
  const columnLabel = (col: Column) => col.head ? label(col.head.label, col.option) : label(field.option_labels?.[col.option], col.option);

  function refused(e: unknown): unknown {
    if (e instanceof ApiError && e.isStale) return new Error(t("kanban.stale"));
    if (e instanceof ApiError && e.status === 422) return new ApiError(422, e.code, label(TEXT.refused), e.problems);
    return e;
  }

  async function save(record: RecordData, column: Column, fields: Record<string, unknown>) {
    if (!field) return;
    setMessage(null);
    try {
      let version = record.version;
      if (version === undefined) version = (await api.getRecord(object, record.id)).version;
      if (pipeline) {
        const order = [record.id, ...column.items.map((r) => r.id).filter((id) => id !== record.id)];
        await pipelinesApi.move(pipeline.name, { record_id: record.id, stage: column.option, version, fields, order });
      } else {
        await api.updateRecord(object, record.id, version ?? 0, { [field.name]: column.option, ...fields });
      }
    } catch (e) {
      setMessage(refused(e));
    }
    board.reload();  // a refused move snaps back: the board shows what the server has
  }

  function move(record: RecordData, column: Column) {
    if (!field || record[field.name] === column.option) return;
    const missing = (column.head?.required_fields ?? []).filter((n) => empty(record[n]))
      .map((n) => d.fields.find((f) => f.name === n)).filter((f): f is FieldInfo => !!f);
    if (missing.length) setPending({ record, column, missing, values: {} });
    else void save(record, column, {});
  }

  function submitPending() {
    if (!pending) return;
    const fields: Record<string, unknown> = {};
    for (const f of pending.missing) {
      const raw = pending.values[f.name] ?? "";
      fields[f.name] = raw === "" ? null : f.type === "integer" ? Number(raw) : raw;
    }
    const { record, column } = pending;
    setPending(null);
    void save(record, column, fields);
  }

  const all = board.data ?? [];
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
        {serving.length > 1 && pipeline && (
          <label className="inline">
            <span>{label(TEXT.pipeline)}</span>
            <select aria-label={label(TEXT.pipeline)} value={pipeline.name}
              onChange={(e) => navigate(`/o/${object}/kanban?field=${encodeURIComponent(field.name)}&pipeline=${encodeURIComponent(e.target.value)}`)}>
              {serving.map((p) => <option key={p.name} value={p.name}>{label(p.label, p.name)}</option>)}
            </select>
          </label>
        )}
        <Link to={`/o/${object}`} className="button">{t("kanban.list")}</Link>
      </PageHeader>
      <ErrorMessage error={message ?? board.error} />
      {pending && (
        <div role="dialog" aria-modal="true" aria-label={columnLabel(pending.column)} className="kanban-dialog card">
          <p>{label(TEXT.needs).replace("{stage}", columnLabel(pending.column))}</p>
          <form onSubmit={(e) => { e.preventDefault(); submitPending(); }}>
            {pending.missing.map((f) => (
              <label key={f.name} className="field">
                <span>{label(f.label, f.name)}</span>
                {f.type === "select" ? (
                  <select required value={pending.values[f.name] ?? ""}
                    onChange={(e) => setPending({ ...pending, values: { ...pending.values, [f.name]: e.target.value } })}>
                    <option value="" />
                    {(f.options ?? []).map((o) => <option key={o} value={o}>{label(f.option_labels?.[o], o)}</option>)}
                  </select>
                ) : (
                  <input required type={inputType(f)} step={f.type === "decimal" ? "0.01" : undefined}
                    value={pending.values[f.name] ?? ""}
                    onChange={(e) => setPending({ ...pending, values: { ...pending.values, [f.name]: e.target.value } })} />
                )}
              </label>
            ))}
            <div className="actions">
              <button type="submit" className="primary">{label(TEXT.save)}</button>
              <button type="button" onClick={() => setPending(null)}>{label(TEXT.cancel)}</button>
            </div>
          </form>
        </div>
      )}
      {!board.data ? <Loading /> : (
        <div className="kanban">
          {all.map((col) => (
            <section key={col.option} className={`kanban-col${dragOver === col.option ? " over" : ""}`}
              aria-label={columnLabel(col)}
              data-option={col.option}
              onDragOver={(e) => { e.preventDefault(); setDragOver(col.option); }}
              onDragLeave={() => setDragOver(null)}
              onDrop={(e) => {
                e.preventDefault();
                setDragOver(null);
                const id = Number(e.dataTransfer.getData("text/plain"));
                const rec = all.flatMap((c) => c.items).find((r) => r.id === id);
                if (rec) move(rec, col);
              }}>
              <h2>{columnLabel(col)} <span className="muted">{col.count ?? col.items.length}</span></h2>
              {col.head && col.head.amount !== null && (
                <p className="muted small kanban-sums" data-amount={col.head.amount} data-weighted={col.head.weighted ?? ""}>
                  {label(TEXT.amount)} {col.head.amount} · {label(TEXT.weighted)} {col.head.weighted}
                </p>
              )}
              {col.items.map((r) => (
                <article key={r.id} className="kanban-card" draggable data-id={r.id}
                  onDragStart={(e) => { e.dataTransfer.setData("text/plain", String(r.id)); e.dataTransfer.effectAllowed = "move"; }}>
                  <Link to={`/o/${object}/${r.id}`}>{formatValue(titleField, r[d.title_field ?? "id"], label) || "#" + r.id}</Link>
                  <TagChips tags={Array.isArray(r.tags) ? r.tags : []} />
                  <label className="sr-only" htmlFor={`move-${r.id}`}>{t("kanban.move_to")}</label>
                  <select id={`move-${r.id}`} className="small" value={col.option} onChange={(e) => {
                    const target = all.find((c) => c.option === e.target.value);
                    if (target) move(r, target);
                  }}>
                    {all.map((c) => <option key={c.option} value={c.option}>{columnLabel(c)}</option>)}
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
