// The form designer: drag fields from the palette into sections (or between them), choose
// widgets, help and read-only, map select options to tags, and see the generated form live.
// Tags named in the mapping that do not exist yet are created when the form is applied.
import { useState, type DragEvent } from "react";
import { api, ApiError } from "../../api/client";
import type { FieldInfo, FormDoc, ObjectDetail, Plan } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, resetTagInfo, useLoad } from "../../components/common";
import { RecordForm } from "../../components/RecordForm";
import { useI18n, type MessageKey } from "../../i18n";
import {
  WIDGETS_BY_TYPE, formDoc, formDraftFromDoc, mappedTags, newFormDraft, placeEntry, removeEntry, unplacedFields,
  type EntryDraft, type FormDraft, type SectionDraft,
} from "../../lib/formDesigner";
import { isIdentifier } from "../../lib/designer";
import { Link, useRouter } from "../../lib/router";
import { PlanView } from "./ObjectDesigner";

export function FormDesigner({ name }: { name: string }) {
  const { search } = useRouter();
  const isNew = name === "new";
  const loaded = useLoad(async () => {
    const existing = isNew ? null : (await api.definition("form", name)) as unknown as FormDoc;
    const objectName = existing?.object ?? search.get("object") ?? "";
    const detail = await api.object(objectName);
    let draft: FormDraft;
    if (existing) {
      draft = formDraftFromDoc(existing);
    } else {
      const hasDefault = (detail.forms ?? []).some((f) => f.default);
      const formName = hasDefault ? `${objectName}_form_${(detail.forms?.length ?? 0) + 1}` : `${objectName}_default`;
      const lab = detail.label;
      const en = typeof lab === "string" ? lab : lab?.en ?? objectName;
      const zh = typeof lab === "string" ? "" : lab?.zh ?? "";
      draft = newFormDraft(objectName, detail.fields, formName, !hasDefault, { en, zh });
    }
    return { detail, draft };
  }, [name]);
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  return <Designer detail={loaded.data.detail} initial={loaded.data.draft} isNew={isNew} />;
}

function Designer({ detail, initial, isNew }: { detail: ObjectDetail; initial: FormDraft; isNew: boolean }) {
  const { t, label } = useI18n();
  const [draft, setDraft] = useState(initial);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [applied, setApplied] = useState(false);
  const [dragging, setDragging] = useState<string | null>(null);
  const byName = new Map(detail.fields.map((f) => [f.name, f]));
  const palette = unplacedFields(draft, detail.fields);
  const doc = formDoc(draft);
  const previewDetail: ObjectDetail = { ...detail, forms: [doc] };

  const change = (next: FormDraft) => { setDraft(next); setPlan(null); setApplied(false); };
  const setSection = (i: number, s: SectionDraft) => change({ ...draft, sections: draft.sections.map((x, j) => (j === i ? s : x)) });
  const setEntry = (si: number, ei: number, e: EntryDraft) =>
    setSection(si, { ...draft.sections[si], entries: draft.sections[si].entries.map((x, j) => (j === ei ? e : x)) });
  const drop = (si: number, ei: number) => (ev: DragEvent) => {
    ev.preventDefault();
    ev.stopPropagation();
    const field = ev.dataTransfer.getData("text/plain") || dragging;
    if (field) change(placeEntry(draft, field, si, ei));
    setDragging(null);
  };
  const dragProps = (field: string) => ({
    draggable: true,
    onDragStart: (ev: DragEvent) => { ev.dataTransfer.setData("text/plain", field); setDragging(field); },
    onDragEnd: () => setDragging(null),
  });

  /** Tag definitions to create or extend so every mapped tag is a manual tag of this object
   * (an automatic tag is left alone: the server refuses mapping to it, with the reason). */
  async function tagChanges(): Promise<{ kind: string; name: string; body: Record<string, unknown> }[]> {
    const wanted = mappedTags(draft);
    if (!wanted.length) return [];
    let known: Record<string, unknown>[] = [];
    try {
      known = await api.definitions("tag");
    } catch {
      return [];
    }
    const out: { kind: string; name: string; body: Record<string, unknown> }[] = [];
    for (const name of wanted) {
      const doc = known.find((d) => d.name === name);
      const objects = Array.isArray(doc?.objects) ? (doc.objects as string[]) : [];
      if (!doc) out.push({ kind: "tag", name, body: { name, label: { en: name, zh: name }, objects: [draft.object] } });
      else if (!doc.rule && !objects.includes(draft.object)) out.push({ kind: "tag", name, body: { ...doc, objects: [...objects, draft.object] } });
    }
    return out;
  }

  async function checkPlan() {
    setError(null);
    try {
      const tags = await tagChanges();
      setPlan(await api.plan([...tags, { kind: "form", name: draft.name, body: doc as unknown as Record<string, unknown> }]));
    } catch (e) {
      setError(e);
    }
  }

  async function apply() {
    setError(null);
    try {
      for (const tag of await tagChanges()) await api.putDefinition("tag", tag.name, tag.body);
      resetTagInfo();
      setPlan(await api.putDefinition("form", draft.name, doc as unknown as Record<string, unknown>));
      setApplied(true);
      if (isNew) window.history.replaceState(null, "", `/designer/forms/${draft.name}`);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.problems.length) setPlan({ changed: false, changes: [], problems: e.problems });
    }
  }

  return (
    <div className="page designer">
      <PageHeader title={isNew ? t("forms.new_title", { object: label(detail.label, detail.name) }) : t("forms.edit_title", { name: draft.name })}>
        {!isNew && <Link to={`/designer/history/form/${draft.name}`} className="button">{t("admin.history")}</Link>}
      </PageHeader>
      <section className="card grid-2">
        <div>
          <label htmlFor="form-name">{t("designer.api_name")}</label>
          <input id="form-name" value={draft.name} readOnly={!isNew} onChange={(e) => change({ ...draft, name: e.target.value })} />
        </div>
        <div>
          <label className="inline"><input type="checkbox" checked={draft.isDefault}
            onChange={(e) => change({ ...draft, isDefault: e.target.checked })} />{t("forms.default")}</label>
        </div>
        <div>
          <label htmlFor="form-label-en">{t("designer.label_en")}</label>
          <input id="form-label-en" value={draft.labelEn} onChange={(e) => change({ ...draft, labelEn: e.target.value })} />
        </div>
        <div>
          <label htmlFor="form-label-zh">{t("designer.label_zh")}</label>
          <input id="form-label-zh" value={draft.labelZh} onChange={(e) => change({ ...draft, labelZh: e.target.value })} />
        </div>
      </section>

      <div className="form-designer">
        <div className="layout-editor">
          <section className="card palette" aria-label={t("forms.palette")}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => { e.preventDefault(); const f = e.dataTransfer.getData("text/plain"); if (f) change(removeEntry(draft, f)); }}>
            <h2>{t("forms.palette")}</h2>
            {!palette.length && <p className="muted small">{t("forms.palette_empty")}</p>}
            <ul className="palette-list">
              {palette.map((f) => (
                <li key={f.name} className="palette-item" {...dragProps(f.name)} data-field={f.name}>
                  <span>{label(f.label, f.name)}</span>
                  <button type="button" className="link" onClick={() => change(placeEntry(draft, f.name, 0, 9999))}
                    aria-label={t("forms.add_to_first", { field: label(f.label, f.name) })}>+</button>
                </li>
              ))}
            </ul>
          </section>
          {draft.sections.map((s, si) => (
            <section key={si} className="card section-editor" data-section={s.key}
              onDragOver={(e) => e.preventDefault()} onDrop={drop(si, s.entries.length)}>
              <div className="grid-3">
                <div>
                  <label htmlFor={`s${si}-en`}>{t("forms.section_label_en")}</label>
                  <input id={`s${si}-en`} value={s.labelEn} onChange={(e) => setSection(si, { ...s, labelEn: e.target.value })} />
                </div>
                <div>
                  <label htmlFor={`s${si}-zh`}>{t("forms.section_label_zh")}</label>
                  <input id={`s${si}-zh`} value={s.labelZh} onChange={(e) => setSection(si, { ...s, labelZh: e.target.value })} />
                </div>
                <div>
                  <label htmlFor={`s${si}-cols`}>{t("forms.columns")}</label>
                  <select id={`s${si}-cols`} value={s.columns} onChange={(e) => setSection(si, { ...s, columns: Number(e.target.value) })}>
                    {[1, 2, 3, 4].map((n) => <option key={n} value={n}>{n}</option>)}
                  </select>
                </div>
              </div>
              <div className="row">
                <label className="inline"><input type="checkbox" checked={s.collapsed}
                  onChange={(e) => setSection(si, { ...s, collapsed: e.target.checked })} />{t("forms.collapsed")}</label>
                {draft.sections.length > 1 && (
                  <button type="button" className="link danger" onClick={() => change({ ...draft, sections: draft.sections.filter((_, j) => j !== si) })}>
                    {t("forms.remove_section")}
                  </button>
                )}
              </div>
              <ol className="entries">
                {s.entries.map((e, ei) => (
                  <li key={e.field} className="entry" data-field={e.field} {...dragProps(e.field)}
                    onDragOver={(ev) => ev.preventDefault()} onDrop={drop(si, ei)}>
                    <EntryEditor entry={e} field={byName.get(e.field)} sectionCount={draft.sections.length} section={si}
                      onChange={(ne) => setEntry(si, ei, ne)}
                      onMove={(by) => change(placeEntry(draft, e.field, si, ei + by))}
                      onMoveSection={(to) => change(placeEntry(draft, e.field, to, 9999))}
                      onRemove={() => change(removeEntry(draft, e.field))} />
                  </li>
                ))}
              </ol>
              {!s.entries.length && <p className="muted small drop-hint">{t("forms.drop_here")}</p>}
            </section>
          ))}
          <button type="button" onClick={() => change({ ...draft, sections: [...draft.sections, {
            key: `section_${draft.sections.length + 1}`, labelEn: "", labelZh: "", columns: 1, collapsed: false, entries: [],
          }] })}>{t("forms.add_section")}</button>
        </div>
        <section className="card preview" aria-label={t("forms.preview")}>
          <h2>{t("forms.preview")}</h2>
          <RecordForm key={JSON.stringify(doc)} detail={previewDetail} form={doc} submitLabel={t("form.create")} preview onSubmit={async () => undefined} />
        </section>
      </div>

      <ErrorMessage error={error} />
      {plan && <PlanView plan={plan} />}
      {applied && (
        <p className="alert alert-ok" role="status">
          {t("designer.applied")} <Link to={`/o/${draft.object}/new?form=${draft.name}`}>{t("forms.open_form")}</Link>
        </p>
      )}
      <div className="form-actions sticky">
        <button type="button" disabled={!isIdentifier(draft.name)} onClick={() => void checkPlan()}>{t("designer.check_plan")}</button>
        <button type="button" className="primary" disabled={!plan || plan.problems.length > 0 || applied} onClick={() => void apply()}>
          {t("designer.apply")}
        </button>
      </div>
    </div>
  );
}

function EntryEditor({ entry, field, section, sectionCount, onChange, onMove, onMoveSection, onRemove }: {
  entry: EntryDraft; field: FieldInfo | undefined; section: number; sectionCount: number;
  onChange: (e: EntryDraft) => void; onMove: (by: number) => void; onMoveSection: (to: number) => void; onRemove: () => void;
}) {
  const { t, label } = useI18n();
  const id = (p: string) => `e-${entry.field}-${p}`;
  const widgets = WIDGETS_BY_TYPE[field?.type ?? "text"] ?? ["text"];
  const name = label(field?.label, entry.field);
  const [open, setOpen] = useState(false);
  return (
    <div className="entry-editor">
      <div className="entry-head">
        <span className="drag-handle" aria-hidden="true" title={t("designer.drag")}>⠿</span>
        <span className="entry-name">{name}</span>
        {entry.widget && <span className="muted small"> · {entry.widget}</span>}
        {Object.values(entry.optionTags).some((v) => v.trim()) && <span className="chip small">{t("forms.tags_mapped")}</span>}
        <button type="button" className="link" aria-expanded={open} aria-controls={id("body")}
          aria-label={t("forms.edit_field", { field: name })} onClick={() => setOpen((o) => !o)}>{open ? "▴" : "▾"}</button>
      </div>
      {open && (
      <div id={id("body")}>
      <div className="grid-3">
        <div>
          <label htmlFor={id("widget")}>{t("forms.widget")}</label>
          <select id={id("widget")} value={entry.widget} onChange={(e) => onChange({ ...entry, widget: e.target.value })}>
            <option value="">{t("forms.widget_default")}</option>
            {widgets.map((w) => <option key={w} value={w}>{t(("widget." + w) as MessageKey)}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor={id("help-en")}>{t("designer.help_en")}</label>
          <input id={id("help-en")} value={entry.helpEn} onChange={(e) => onChange({ ...entry, helpEn: e.target.value })} />
        </div>
        <div>
          <label htmlFor={id("help-zh")}>{t("designer.help_zh")}</label>
          <input id={id("help-zh")} value={entry.helpZh} onChange={(e) => onChange({ ...entry, helpZh: e.target.value })} />
        </div>
        <div>
          <label htmlFor={id("ph-en")}>{t("forms.placeholder_en")}</label>
          <input id={id("ph-en")} value={entry.placeholderEn} onChange={(e) => onChange({ ...entry, placeholderEn: e.target.value })} />
        </div>
        <div>
          <label htmlFor={id("ph-zh")}>{t("forms.placeholder_zh")}</label>
          <input id={id("ph-zh")} value={entry.placeholderZh} onChange={(e) => onChange({ ...entry, placeholderZh: e.target.value })} />
        </div>
        <div>
          <label className="inline"><input type="checkbox" checked={entry.readonly}
            onChange={(e) => onChange({ ...entry, readonly: e.target.checked })} />{t("forms.readonly")}</label>
        </div>
      </div>
      {field && (field.type === "select" || field.type === "multiselect") && (
        <div className="option-tags">
          <h3>{t("forms.option_tags")}</h3>
          {(field.options ?? []).map((o) => (
            <div key={o} className="row">
              <label htmlFor={id("tags-" + o)}>{label(field.option_labels?.[o], o)}</label>
              <input id={id("tags-" + o)} placeholder={t("forms.tag_names")} value={entry.optionTags[o] ?? ""}
                onChange={(e) => onChange({ ...entry, optionTags: { ...entry.optionTags, [o]: e.target.value } })} />
            </div>
          ))}
        </div>
      )}
      <div className="row">
        <button type="button" className="icon" aria-label={t("common.move_up")} onClick={() => onMove(-1)}>↑</button>
        <button type="button" className="icon" aria-label={t("common.move_down")} onClick={() => onMove(1)}>↓</button>
        {sectionCount > 1 && (
          <select aria-label={t("forms.move_to_section")} value={section} onChange={(e) => onMoveSection(Number(e.target.value))}>
            {Array.from({ length: sectionCount }, (_, i) => <option key={i} value={i}>{t("forms.section_n", { n: i + 1 })}</option>)}
          </select>
        )}
        <button type="button" className="link danger" onClick={onRemove}>{t("forms.remove_from_form")}</button>
      </div>
      </div>
      )}
    </div>
  );
}
