// Tags (grouped; manual, or automatic with a rule) and segments (a saved rule over one object)
// with counts. The rule builder's result is counted live while the admin edits it.
import { useEffect, useState } from "react";
import { api } from "../../api/client";
import type { Label, ObjectDetail, Rule } from "../../api/types";
import { ErrorMessage, Loading, resetTagInfo, useLoad } from "../../components/common";
import { DeleteDefinition } from "../admin/DeleteDefinition";
import { RuleBuilder } from "../../components/RuleBuilder";
import { useI18n } from "../../i18n";
import { isIdentifier, slugify } from "../../lib/designer";
import { Link } from "../../lib/router";
import { fromRule, toRule, type GroupNode } from "../../lib/rules";

function useLiveCount(object: string, rule: Rule | null): { count: number | null; error: unknown } {
  const [count, setCount] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = JSON.stringify(rule);
  useEffect(() => {
    if (!object) return;
    let live = true;
    const timer = setTimeout(() => {
      api.countWhere(object, rule).then((n) => { if (live) { setCount(n); setError(null); } },
        (e: unknown) => { if (live) { setCount(null); setError(e); } });
    }, 300);
    return () => { live = false; clearTimeout(timer); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [object, key]);
  return { count, error };
}

function ObjectPicker({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const { t, label } = useI18n();
  const objects = useLoad(() => api.objects(), []);
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">{t("common.choose")}</option>
      {(objects.data ?? []).map((o) => <option key={o.name} value={o.name}>{label(o.label, o.name)}</option>)}
    </select>
  );
}

function RuleEditor({ object, value, onChange, tags }: { object: string; value: GroupNode; onChange: (g: GroupNode) => void; tags: string[] }) {
  const detail = useLoad<ObjectDetail | null>(() => (object ? api.object(object) : Promise.resolve(null)), [object]);
  if (!object) return null;
  if (detail.error) return <ErrorMessage error={detail.error} />;
  if (!detail.data) return <Loading />;
  return <RuleBuilder fields={detail.data.fields} value={value} onChange={onChange} tags={tags} />;
}

interface Editing {
  name: string;
  labelEn: string;
  labelZh: string;
  object: string;
  /** Tags: the objects whose records may carry it (the first one's fields build an automatic rule). */
  objects: string[];
  group: string;
  color: string;
  automatic: boolean;
  builder: GroupNode;
  isNew: boolean;
  extra: Record<string, unknown>;
}

function editingFrom(doc: Record<string, unknown> | null, kind: "tag" | "segment"): Editing {
  const l = (doc?.label ?? {}) as Label;
  const text = (lang: string) => (typeof l === "string" ? (lang === "en" ? l : "") : l[lang] ?? "");
  const { name, label: _l, object, objects, group, color, rule, ...extra } = doc ?? {};
  void _l;
  const list = Array.isArray(objects) ? objects.map(String) : [];
  return {
    name: String(name ?? ""), labelEn: text("en"), labelZh: text("zh"),
    object: String(object ?? list[0] ?? ""), objects: list,
    group: String(group ?? ""), color: String(color ?? "#2f6fde"), automatic: kind === "segment" || !!rule,
    builder: fromRule((rule ?? null) as Rule | null), isNew: !doc, extra,
  };
}

function docFrom(e: Editing, kind: "tag" | "segment", fields: ObjectDetail["fields"] = []): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...e.extra, name: e.name, label: { en: e.labelEn || e.name, zh: e.labelZh || e.labelEn || e.name } };
  if (kind === "tag") {
    if (e.group) doc.group = e.group;
    if (e.color) doc.color = e.color;
    doc.objects = [...new Set([e.object, ...e.objects].filter(Boolean))];
    if (e.automatic) doc.rule = toRule(e.builder, fields) ?? { all: [] };
  } else {
    doc.object = e.object;
    doc.rule = toRule(e.builder, fields) ?? { all: [] };
  }
  return doc;
}

function DefinitionEditor({ kind, initial, tags, groups = [], onDone }: {
  kind: "tag" | "segment"; initial: Editing; tags: string[]; groups?: string[]; onDone: () => void;
}) {
  const { t } = useI18n();
  const [e, setE] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [fields, setFields] = useState<ObjectDetail["fields"]>([]);
  useEffect(() => {
    if (e.object) api.object(e.object).then((d) => setFields(d.fields), () => setFields([]));
  }, [e.object]);
  const rule = e.automatic && e.object ? toRule(e.builder, fields) : null;
  const live = useLiveCount(e.automatic ? e.object : "", rule);
  const prefix = kind + "-edit";
  return (
    <section className="card" aria-label={t(kind === "tag" ? "tags.editor" : "segments.editor")}>
      <div className="grid-3">
        <div>
          <label htmlFor={`${prefix}-label-en`}>{t("designer.label_en")}</label>
          <input id={`${prefix}-label-en`} value={e.labelEn}
            onChange={(ev) => setE({ ...e, labelEn: ev.target.value, name: e.isNew ? slugify(ev.target.value) : e.name })} />
        </div>
        <div>
          <label htmlFor={`${prefix}-label-zh`}>{t("designer.label_zh")}</label>
          <input id={`${prefix}-label-zh`} value={e.labelZh} onChange={(ev) => setE({ ...e, labelZh: ev.target.value })} />
        </div>
        <div>
          <label htmlFor={`${prefix}-name`}>{t("designer.api_name")}</label>
          <input id={`${prefix}-name`} value={e.name} readOnly={!e.isNew} onChange={(ev) => setE({ ...e, name: ev.target.value })} />
        </div>
        {kind === "tag" && (
          <>
            <div>
              <label htmlFor={`${prefix}-group`}>{t("tags.group")}</label>
              <select id={`${prefix}-group`} value={e.group} onChange={(ev) => setE({ ...e, group: ev.target.value })}>
                <option value="">{t("tags.ungrouped")}</option>
                {groups.map((g) => <option key={g} value={g}>{g}</option>)}
              </select>
            </div>
            <div>
              <label htmlFor={`${prefix}-color`}>{t("tags.color")}</label>
              <input id={`${prefix}-color`} type="color" value={e.color} onChange={(ev) => setE({ ...e, color: ev.target.value })} />
            </div>
            <div>
              <label className="inline"><input type="checkbox" checked={e.automatic}
                onChange={(ev) => setE({ ...e, automatic: ev.target.checked })} />{t("tags.automatic")}</label>
            </div>
          </>
        )}
        {(kind === "segment" || kind === "tag") && (
          <div>
            <label htmlFor={`${prefix}-object`}>{t("admin.object")}</label>
            <ObjectPicker id={`${prefix}-object`} value={e.object} onChange={(v) => setE({ ...e, object: v, builder: fromRule(null) })} />
          </div>
        )}
      </div>
      {(kind === "segment" || e.automatic) && e.object && (
        <>
          <RuleEditor object={e.object} value={e.builder} onChange={(b) => setE({ ...e, builder: b })} tags={tags} />
          <p className="live-count" aria-live="polite">
            {live.count !== null ? t("segments.live_count", { n: live.count }) : t("segments.counting")}
          </p>
          <ErrorMessage error={live.error} />
        </>
      )}
      <ErrorMessage error={error} />
      <div className="row">
        <button type="button" className="primary" disabled={!isIdentifier(e.name) || !e.object}
          onClick={() => void api.putDefinition(kind, e.name, docFrom(e, kind, fields)).then(() => { resetTagInfo(); onDone(); }, setError)}>
          {t("common.save")}
        </button>
        <button type="button" className="link" onClick={onDone}>{t("common.cancel")}</button>
      </div>
    </section>
  );
}

function Count({ load }: { load: () => Promise<number> }) {
  const [n, setN] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => { load().then(setN, () => setFailed(true)); /* eslint-disable-next-line react-hooks/exhaustive-deps */ }, []);
  return <span className="count-badge">{failed ? "–" : n === null ? "…" : n}</span>;
}

export function TagsPanel() {
  const { t, label } = useI18n();
  const docs = useLoad(() => api.definitions("tag"), []);
  const groupDocs = useLoad(() => api.definitions("tag_group").catch(() => []), []);
  const [editing, setEditing] = useState<Editing | null>(null);
  if (docs.error) return <ErrorMessage error={docs.error} />;
  if (!docs.data) return <Loading />;
  const groupNames = (groupDocs.data ?? []).map((g) => String(g.name));
  const groupLabel = (name: string) => {
    const g = (groupDocs.data ?? []).find((x) => x.name === name);
    return g ? label(g.label as Label, name) : name || t("tags.ungrouped");
  };
  const used = [...new Set(docs.data.map((d) => String(d.group ?? "")))].sort();
  const names = docs.data.map((d) => String(d.name));
  return (
    <div>
      {editing ? (
        <DefinitionEditor kind="tag" initial={editing} tags={names} groups={groupNames}
          onDone={() => { setEditing(null); docs.reload(); }} />
      ) : (
        <div className="toolbar">
          <button type="button" className="primary" onClick={() => setEditing(editingFrom(null, "tag"))}>{t("tags.new")}</button>
          <GroupCreator onDone={groupDocs.reload} />
        </div>
      )}
      {used.map((g) => (
        <section key={g} className="card">
          <h2>{groupLabel(g)}</h2>
          <ul className="tag-list">
            {docs.data!.filter((d) => String(d.group ?? "") === g).map((d) => (
              <li key={String(d.name)}>
                <span className="chip" style={{ borderColor: typeof d.color === "string" ? d.color : undefined }}>
                  {label(d.label as Label, String(d.name))}
                </span>
                <span className="muted small">{d.rule ? t("tags.automatic") : t("tags.manual")}</span>
                {(Array.isArray(d.objects) ? d.objects.map(String) : []).map((o) => (
                  <span key={o} className="small">{o}: <Count load={() => api.countWhere(o, { op: "has_tag", value: String(d.name) })} /></span>
                ))}
                <button type="button" className="link" onClick={() => setEditing(editingFrom(d, "tag"))}>{t("common.edit")}</button>
                <Link to={`/designer/history/tag/${String(d.name)}`}>{t("admin.history")}</Link>
                <DeleteDefinition kind="tag" name={String(d.name)} onDeleted={() => { resetTagInfo(); docs.reload(); }} />
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function GroupCreator({ onDone }: { onDone: () => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [en, setEn] = useState("");
  const [zh, setZh] = useState("");
  const [exclusive, setExclusive] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!open) return <button type="button" onClick={() => setOpen(true)}>{t("tags.new_group")}</button>;
  const name = slugify(en);
  return (
    <div className="card row">
      <label htmlFor="group-en">{t("designer.label_en")}</label>
      <input id="group-en" value={en} onChange={(e) => setEn(e.target.value)} />
      <label htmlFor="group-zh">{t("designer.label_zh")}</label>
      <input id="group-zh" value={zh} onChange={(e) => setZh(e.target.value)} />
      <label className="inline"><input type="checkbox" checked={exclusive} onChange={(e) => setExclusive(e.target.checked)} />{t("tags.exclusive")}</label>
      <button type="button" className="primary" disabled={!isIdentifier(name)} onClick={() => void api.putDefinition("tag_group", name, {
        name, label: { en, zh: zh || en }, ...(exclusive ? { exclusive: true } : {}),
      }).then(() => { setOpen(false); onDone(); }, setError)}>{t("common.save")}</button>
      <ErrorMessage error={error} />
    </div>
  );
}

export function SegmentsPanel() {
  const { t, label } = useI18n();
  const docs = useLoad(() => api.definitions("segment"), []);
  const tags = useLoad(() => api.definitions("tag").catch(() => []), []);
  const [editing, setEditing] = useState<Editing | null>(null);
  if (docs.error) return <ErrorMessage error={docs.error} />;
  if (!docs.data) return <Loading />;
  const tagNames = (tags.data ?? []).map((d) => String(d.name));
  return (
    <div>
      {editing ? (
        <DefinitionEditor kind="segment" initial={editing} tags={tagNames} onDone={() => { setEditing(null); docs.reload(); }} />
      ) : (
        <button type="button" className="primary" onClick={() => setEditing(editingFrom(null, "segment"))}>{t("segments.new")}</button>
      )}
      <table className="records">
        <thead>
          <tr>
            <th scope="col">{t("admin.label")}</th>
            <th scope="col">{t("admin.object")}</th>
            <th scope="col">{t("segments.count")}</th>
            <th scope="col">{t("admin.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {docs.data.map((d) => (
            <tr key={String(d.name)}>
              <td data-label={t("admin.label")}>{label(d.label as Label, String(d.name))}</td>
              <td data-label={t("admin.object")}>{String(d.object ?? "")}</td>
              <td data-label={t("segments.count")}><Count load={() => api.segmentCount(String(d.name))} /></td>
              <td data-label={t("admin.actions")} className="row">
                <button type="button" className="link" onClick={() => setEditing(editingFrom(d, "segment"))}>{t("common.edit")}</button>
                <Link to={`/o/${String(d.object)}?segment=${String(d.name)}`}>{t("segments.open")}</Link>
                <Link to={`/designer/history/segment/${String(d.name)}`}>{t("admin.history")}</Link>
                <DeleteDefinition kind="segment" name={String(d.name)} onDeleted={docs.reload} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
