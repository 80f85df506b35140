// The list view of one object: chosen and ordered columns, sort, the visual rule builder,
// cursor pagination (no OFFSET, so page 1,000 is as fast as page 1), bulk tag/owner changes,
// saved lists on the server (ViewsMenu), segments, and background exports of the current view (ExportDialog).
import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import type { FieldInfo, ObjectDetail, RecordData, Rule, SegmentSummary } from "../api/types";
import { ErrorMessage, Loading, PageHeader, TagChips, useLoad, useUsers } from "../components/common";
import { RuleBuilder } from "../components/RuleBuilder";
import { useI18n } from "../i18n";
import { formatValue } from "../lib/format";
import { titleIn, useRegionLabels, useTitles } from "../lib/titles";
import { Link, useRouter } from "../lib/router";
import { fromRule, toRule, type GroupNode } from "../lib/rules";
import type { SavedView } from "../lib/views";
import { ViewsMenu } from "../components/ViewsMenu";
import { suggestTags, type TagSuggestion } from "../api/recordTools";
import { ExportDialog } from "../components/ExportDialog";
import { useSession } from "../session";
import { TrashPage } from "./TrashPage";

const PAGE_SIZE = 50;
/** Newest first by id, not created_at: ids ascend with creation and are the primary key, so a page
 * deep in a million rows costs what the first costs (bench/web_list.py: created_at has no index). */
const NEWEST_FIRST = "-id";

export function defaultColumns(detail: ObjectDetail): string[] {
  const names = detail.fields.filter((f) => f.type !== "json" && f.type !== "textarea").map((f) => f.name);
  const title = detail.title_field && names.includes(detail.title_field) ? [detail.title_field] : [];
  return [...title, ...names.filter((n) => !title.includes(n))].slice(0, 5);
}

export function ListPage({ object }: { object: string }) {
  const { t, label } = useI18n();
  const { me } = useSession();
  const { search } = useRouter();
  const loaded = useLoad(() => api.object(object), [object]);
  if (search.has("trash")) return <TrashPage object={object} />;  // /o/{object}?trash
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  const detail = loaded.data;
  return (
    <div className="page">
      <PageHeader title={label(detail.plural_label ?? detail.label, detail.name)}>
        {detail.fields.some((f) => f.type === "select") && (
          <Link to={`/o/${object}/kanban`} className="button">{t("list.kanban")}</Link>
        )}
        {me?.permissions?.[object]?.delete && <Link to={`/o/${object}?trash`} className="button">{t("list.trash")}</Link>}
        <Link to={`/o/${object}/new`} className="button primary">{t("list.new", { object: label(detail.label, detail.name) })}</Link>
      </PageHeader>
      <ListView detail={detail} />
    </div>
  );
}

function ListView({ detail }: { detail: ObjectDetail }) {
  const { t, label, lang } = useI18n();
  const { search } = useRouter();
  const { me } = useSession();
  const users = useUsers();
  const object = detail.name;
  const byName = useMemo(() => new Map(detail.fields.map((f) => [f.name, f])), [detail]);
  const [columns, setColumns] = useState<string[]>(() => defaultColumns(detail));
  const [sort, setSort] = useState(NEWEST_FIRST);
  // ?filter=<rule JSON>: a report's drill-down opens the list on exactly the cell's records
  const [builder, setBuilder] = useState<GroupNode>(() => fromRule(ruleFromUrl(search)));
  const [applied, setApplied] = useState<Rule | null>(() => ruleFromUrl(search));
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [count, setCount] = useState<number | null>(null);
  const [segments, setSegments] = useState<SegmentSummary[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [showFilter, setShowFilter] = useState(false);
  const [bulkTag, setBulkTag] = useState("");
  const [bulkOwner, setBulkOwner] = useState("");
  const [segmentName, setSegmentName] = useState("");
  const [tagOptions, setTagOptions] = useState<TagSuggestion[]>([]);
  const [ownerScope, setOwnerScope] = useState<OwnerScope>("anyone");
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {  // the filter's tag conditions suggest tags by label, as the tag box does
    if (!showFilter || tagOptions.length) return;
    let live = true;
    suggestTags(object, "").then((items) => { if (live) setTagOptions(items); }, () => undefined);
    return () => { live = false; };
  }, [showFilter, object, tagOptions.length]);

  useEffect(() => {
    api.segments().then((all) => setSegments(all.filter((s) => s.object === object)), () => setSegments([]));
  }, [object]);

  useEffect(() => {
    const seg = search.get("segment");
    const found = segments.find((s) => s.name === seg);
    if (found?.rule) {
      setBuilder(fromRule(found.rule));
      setApplied(found.rule);
      setCursors([null]);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [segments]);

  const page = useLoad(
    () => api.listRecords(object, { filter: withOwner(applied, ownerScope, me?.id), sort, limit: PAGE_SIZE, cursor, count: cursors.length === 1 }),
    [object, applied, sort, cursor, ownerScope, me?.id],
  );
  useEffect(() => {
    if (page.data?.count !== undefined) setCount(page.data.count);
  }, [page.data]);

  const items: RecordData[] = page.data?.items ?? [];
  const [rowTags, setRowTags] = useState<Record<number, string[]>>({});
  useEffect(() => {
    // The list endpoint may not carry tags; then read them for the rows on this page only.
    const rows = page.data?.items ?? [];
    if (!rows.length || rows.every((r) => Array.isArray(r.tags))) return;
    let live = true;
    void Promise.all(rows.map((r) => api.recordTags(object, r.id).then((tags) => [r.id, tags] as const, () => [r.id, []] as const)))
      .then((pairs) => { if (live) setRowTags(Object.fromEntries(pairs)); });
    return () => { live = false; };
  }, [page.data, object]);
  const tagsOf = (r: RecordData): string[] => (Array.isArray(r.tags) ? r.tags : rowTags[r.id] ?? []);
  const columnFields: FieldInfo[] = columns.map((c) => byName.get(c)).filter((f): f is FieldInfo => !!f);
  const titles = useTitles(columnFields, page.data?.items);
  const regions = useRegionLabels(columnFields, page.data?.items);
  const show = (f: FieldInfo, r: RecordData) =>
    formatValue(f, r[f.name], label, { lang, title: (target, id) => titleIn(titles, target, id), region: (code) => regions[code],
      currency: byName.has("currency") && typeof r.currency === "string" ? r.currency : undefined });

  function applyFilter() {
    setApplied(toRule(builder, detail.fields));
    setCursors([null]);
    setSelected(new Set());
  }

  function toggleSort(name: string) {
    setSort((s) => (s === name ? "-" + name : name));
    setCursors([null]);
  }

  async function run(action: () => Promise<void>, done: string) {
    setActionError(null);
    setMessage(null);
    try {
      await action();
      setMessage(done);
    } catch (e) {
      setActionError(e);
    }
  }

  function applyView(view: SavedView) {
    setColumns(view.columns.filter((c) => byName.has(c)));
    setSort(view.sort);
    setBuilder(fromRule(view.rule));
    setApplied(view.rule);
    setCursors([null]);
  }

  const allOnPage = items.length > 0 && items.every((r) => selected.has(r.id));
  const sortDir = (name: string): "ascending" | "descending" | "none" =>
    sort === name ? "ascending" : sort === "-" + name ? "descending" : "none";

  return (
    <>
      <div className="toolbar">
        <button type="button" aria-expanded={showFilter} onClick={() => setShowFilter((v) => !v)}>
          {t("list.filter")}{applied ? " •" : ""}
        </button>
        <details className="dropdown">
          <summary>{t("list.columns")}</summary>
          <div className="dropdown-body">
            <ColumnChooser fields={detail.fields} columns={columns} onChange={setColumns} />
          </div>
        </details>
        {segments.length > 0 && (
          <label className="inline">
            <span>{t("list.segments")}</span>
            <select aria-label={t("list.segments")} value="" onChange={(e) => {
              const s = segments.find((x) => x.name === e.target.value);
              if (s) { setBuilder(fromRule(s.rule ?? null)); setApplied(s.rule ?? null); setCursors([null]); }
            }}>
              <option value="">{t("common.choose")}</option>
              {segments.map((s) => <option key={s.name} value={s.name}>{label(s.label, s.name)}</option>)}
            </select>
          </label>
        )}
        <ViewsMenu object={object} current={{ columns, sort, rule: applied }} onApply={applyView} canShare={!!me?.is_admin} />
        <ExportDialog object={object} rule={withOwner(applied, ownerScope, me?.id)} columns={columns} sort={sort} />
        <label className="inline">
          <span>{t("list.owner")}</span>
          <select aria-label={t("list.owner")} value={ownerScope} onChange={(e) => {
            setOwnerScope(e.target.value as OwnerScope);
            setCursors([null]);
          }}>
            <option value="anyone">{t("list.owner_anyone")}</option>
            <option value="mine">{t("list.owner_mine")}</option>
            {users.filter((u) => u.id !== me?.id).map((u) => (
              <option key={u.id} value={`user:${u.id}`}>{u.display_name || u.username}</option>
            ))}
          </select>
        </label>
        <span className="muted count" aria-live="polite">
          {count !== null ? t("list.count", { n: count }) : ""}
        </span>
      </div>

      {showFilter && (
        <section className="card filter-panel" aria-label={t("list.filter")}>
          <RuleBuilder fields={detail.fields} value={builder} onChange={setBuilder} tags={tagOptions} />
          <div className="row">
            <button type="button" className="primary" onClick={applyFilter}>{t("list.apply_filter")}</button>
            <button type="button" onClick={() => { setBuilder(fromRule(null)); setApplied(null); setCursors([null]); }}>
              {t("list.clear_filter")}
            </button>
          </div>
          {me?.is_admin && (
          <div className="row">
            <label htmlFor="segment-name">{t("list.segment_name")}</label>
            <input id="segment-name" value={segmentName} placeholder="vip_shanghai"
              onChange={(e) => setSegmentName(e.target.value)} />
            <button type="button" disabled={!segmentName.trim()} onClick={() => void run(async () => {
              const rule = toRule(builder, detail.fields) ?? { all: [] };
              const name = segmentName.trim();
              await api.putDefinition("segment", name, { name, object, label: { en: name, zh: name }, rule });
              setSegments((await api.segments()).filter((s) => s.object === object));
            }, t("list.segment_saved"))}>{t("list.save_segment")}</button>
          </div>
          )}
        </section>
      )}

      {message && <p className="alert alert-ok" role="status">{message}</p>}
      <ErrorMessage error={actionError} />

      {selected.size > 0 && (
        <div className="bulk-bar card" role="region" aria-label={t("list.bulk")}>
          <span>{t("list.selected", { n: selected.size })}</span>
          <label htmlFor="bulk-tag">{t("list.add_tag")}</label>
          <input id="bulk-tag" value={bulkTag} onChange={(e) => setBulkTag(e.target.value)} />
          <button type="button" disabled={!bulkTag.trim()} onClick={() => void run(async () => {
            await api.bulkUpdate(object, [...selected], {}, [bulkTag.trim()]);
            page.reload();
          }, t("list.bulk_done"))}>{t("list.apply")}</button>
          <label htmlFor="bulk-owner">{t("list.owner_id")}</label>
          <select id="bulk-owner" value={bulkOwner} onChange={(e) => setBulkOwner(e.target.value)}>
            <option value="">{t("common.choose")}</option>
            {users.map((u) => <option key={u.id} value={u.id}>{u.display_name || u.username}</option>)}
          </select>
          <button type="button" disabled={!bulkOwner} onClick={() => void run(async () => {
            await api.bulkUpdate(object, [...selected], { owner_id: Number(bulkOwner) }, []);
            page.reload();
          }, t("list.bulk_done"))}>{t("list.change_owner")}</button>
        </div>
      )}

      <ErrorMessage error={page.error} />
      <div className="table-wrap">
        <table className="records">
          <thead>
            <tr>
              <th scope="col" className="select-col">
                <input type="checkbox" aria-label={t("list.select_page")} checked={allOnPage} onChange={(e) => {
                  const next = new Set(selected);
                  for (const r of items) if (e.target.checked) next.add(r.id); else next.delete(r.id);
                  setSelected(next);
                }} />
              </th>
              {columnFields.map((f, i) => [
                <th key={f.name} scope="col" aria-sort={sortDir(f.name)}>
                  <button type="button" className="sort" onClick={() => toggleSort(f.name)}>
                    {label(f.label, f.name)}
                    <span aria-hidden="true">{sortDir(f.name) === "ascending" ? " ▲" : sortDir(f.name) === "descending" ? " ▼" : ""}</span>
                  </button>
                </th>,
                i === 0 ? <th key="owner_id" scope="col">{t("record.owner")}</th> : null,  // the owner beside the title
              ])}
              <th scope="col">{t("list.tags")}</th>
            </tr>
          </thead>
          <tbody>
            {page.loading && !items.length && (
              <tr><td colSpan={columnFields.length + 3}><Loading /></td></tr>
            )}
            {!page.loading && !items.length && (
              <tr><td colSpan={columnFields.length + 3} className="muted">{t("list.empty")}</td></tr>
            )}
            {items.map((r) => (
              <tr key={r.id}>
                <td className="select-col">
                  <input type="checkbox" aria-label={t("list.select_row", { id: r.id })} checked={selected.has(r.id)}
                    onChange={(e) => {
                      const next = new Set(selected);
                      if (e.target.checked) next.add(r.id); else next.delete(r.id);
                      setSelected(next);
                    }} />
                </td>
                {columnFields.map((f, i) => [
                  <td key={f.name} data-label={label(f.label, f.name)}>
                    {i === 0 ? (
                      <Link to={`/o/${object}/${r.id}`}>{show(f, r) || "#" + r.id}</Link>
                    ) : f.type === "relation" && f.target && titleIn(titles, f.target, r[f.name]) ? (
                      <Link to={`/o/${f.target}/${String(r[f.name])}`}>{show(f, r)}</Link>
                    ) : show(f, r)}
                  </td>,
                  i === 0 ? <td key="owner_id" data-label={t("record.owner")}>{titleIn(titles, "user", r.owner_id) ?? ""}</td> : null,
                ])}
                <td data-label={t("list.tags")}><TagChips tags={tagsOf(r)} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label={t("list.pages")}>
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          {t("list.previous")}
        </button>
        <span className="muted">{t("list.page", { n: cursors.length })}</span>
        <button type="button" disabled={!page.data?.next_cursor}
          onClick={() => setCursors((c) => [...c, page.data?.next_cursor ?? null])}>
          {t("list.next")}
        </button>
      </nav>
    </>
  );
}

/** The rule in the address (`?filter=`), as a report's drill-down sends it; null when absent or not JSON. */
export function ruleFromUrl(search: URLSearchParams): Rule | null {
  const raw = search.get("filter");
  if (!raw) return null;
  try {
    const rule: unknown = JSON.parse(raw);
    return rule && typeof rule === "object" && !Array.isArray(rule) ? (rule as Rule) : null;
  } catch {
    return null;
  }
}

/** The list's filter with "owned by me" added when the owner filter says so. */
/** Whose records a list shows: anyone's, mine, or one user's (the owner filter's user picker). */
export type OwnerScope = "anyone" | "mine" | `user:${number}`;

export function withOwner(rule: Rule | null, scope: OwnerScope, me: number | undefined): Rule | null {
  const owner = scope === "mine" ? me : scope.startsWith("user:") ? Number(scope.slice(5)) : undefined;
  if (owner === undefined || !Number.isFinite(owner)) return rule;
  const only: Rule = { field: "owner_id", op: "eq", value: owner };
  return rule ? { all: [rule, only] } : only;
}

function ColumnChooser({ fields, columns, onChange }: { fields: FieldInfo[]; columns: string[]; onChange: (c: string[]) => void }) {
  const { t, label } = useI18n();
  const ordered = [...columns.map((c) => fields.find((f) => f.name === c)).filter((f): f is FieldInfo => !!f),
    ...fields.filter((f) => !columns.includes(f.name))];
  const move = (name: string, by: number) => {
    const i = columns.indexOf(name);
    const j = i + by;
    if (i < 0 || j < 0 || j >= columns.length) return;
    const next = columns.slice();
    [next[i], next[j]] = [next[j], next[i]];
    onChange(next);
  };
  return (
    <ul className="column-chooser">
      {ordered.map((f) => (
        <li key={f.name}>
          <label className="inline">
            <input type="checkbox" checked={columns.includes(f.name)}
              onChange={(e) => onChange(e.target.checked ? [...columns, f.name] : columns.filter((c) => c !== f.name))} />
            {label(f.label, f.name)}
          </label>
          {columns.includes(f.name) && (
            <span className="move">
              <button type="button" className="icon" aria-label={t("common.move_up")} onClick={() => move(f.name, -1)}>↑</button>
              <button type="button" className="icon" aria-label={t("common.move_down")} onClick={() => move(f.name, 1)}>↓</button>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
