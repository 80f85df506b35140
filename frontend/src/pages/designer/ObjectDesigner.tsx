// The object designer: a record type and its fields (every type, options with labels in both
// languages, required/unique/index, relation target, default, help), reordered by drag and drop
// or keyboard. "Check plan" shows what the server would change in the table; "Apply" applies it,
// and the server refuses destructive changes as the engine does.
import { useEffect, useRef, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { Plan } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n, type MessageKey } from "../../i18n";
import {
  FIELD_TYPE_NAMES, draftFromDoc, draftProblems, emptyField, emptyObject, moveItem, objectDoc, slugify,
  type FieldDraft, type ObjectDraft,
} from "../../lib/designer";
import { Link, useRouter } from "../../lib/router";

export function ObjectDesigner({ name }: { name: string }) {
  const isNew = name === "new";
  const loaded = useLoad(async () => {
    const doc = isNew ? null : await api.definition("object", name);
    const objects = await api.objects();
    return { draft: doc ? draftFromDoc(doc) : emptyObject(), objects: objects.map((o) => o.name) };
  }, [name]);
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  return <Designer initial={loaded.data.draft} isNew={isNew} targets={loaded.data.objects} />;
}

export function PlanView({ plan, label }: { plan: Plan; label?: string }) {
  const { t, tx } = useI18n();
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    // a block body: newer browsers return a promise from scrollIntoView, which is no cleanup function
    void ref.current?.scrollIntoView?.({ block: "nearest" });
  }, [plan]);
  return (
    <section ref={ref} className="card plan" aria-label={label ?? t("designer.plan")} aria-live="polite">
      <h2>{label ?? t("designer.plan")}</h2>
      {!plan.changed && !plan.problems.length && <p>{t("designer.no_changes")}</p>}
      {plan.changes.filter((c) => c.action !== "unchanged").map((c) => (
        <div key={c.kind + c.name}>
          <p><strong>{tx("action.", c.action)}</strong> {c.kind} <code>{c.name}</code></p>
          <ul className="plan-lines">
            {c.diff.map((d, i) => <li key={"d" + i}><code>{d}</code></li>)}
            {c.table.map((d, i) => <li key={"t" + i} className="table-action"><code>{t("designer.table")}: {d}</code></li>)}
          </ul>
        </div>
      ))}
      {plan.problems.length > 0 && (
        <div className="alert alert-error" role="alert">
          <strong>{t("designer.refused")}</strong>
          <ul>{plan.problems.map((p, i) => <li key={i}><code>{p.field}</code> {p.message}</li>)}</ul>
        </div>
      )}
    </section>
  );
}

function Designer({ initial, isNew, targets }: { initial: ObjectDraft; isNew: boolean; targets: string[] }) {
  const { t } = useI18n();
  const { navigate } = useRouter();
  const [draft, setDraft] = useState<ObjectDraft>(initial);
  const [nameTouched, setNameTouched] = useState(!isNew);
  const [existing] = useState(() => new Set(initial.fields.map((f) => f.name)));
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [applied, setApplied] = useState(false);
  const [forced, setForced] = useState<Plan | null>(null);  // what force would do, when only force gets it through
  const [dragIndex, setDragIndex] = useState<number | null>(null);
  const problems = draftProblems(draft);

  const change = (next: ObjectDraft) => {
    setDraft(next);
    setPlan(null);
    setApplied(false);
    setForced(null);
  };
  const setField = (i: number, f: FieldDraft) => change({ ...draft, fields: draft.fields.map((x, j) => (j === i ? f : x)) });

  async function checkPlan() {
    setError(null);
    setForced(null);
    try {
      const items = [{ kind: "object", name: draft.name, body: objectDoc(draft) }];
      const found = await api.plan(items);
      setPlan(found);
      // refused: would force get it through? Then show what forcing would do, and offer it
      if (found.problems.length) {
        const withForce = await api.plan(items, true).catch(() => null);
        if (withForce && !withForce.problems.length) setForced(withForce);
      }
    } catch (e) {
      setError(e);
    }
  }

  async function apply(force = false) {
    setError(null);
    setForced(null);
    try {
      setPlan(await api.putDefinition("object", draft.name, objectDoc(draft), force));
      setApplied(true);
      if (isNew) window.history.replaceState(null, "", `/designer/objects/${draft.name}`);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && e.problems.length) setPlan({ changed: false, changes: [], problems: e.problems });
    }
  }

  return (
    <div className="page designer">
      <PageHeader title={isNew ? t("designer.new_object") : t("designer.edit_object", { name: draft.name })}>
        {!isNew && <Link to={`/designer/history/object/${draft.name}`} className="button">{t("admin.history")}</Link>}
      </PageHeader>
      <section className="card">
        <div className="grid-2">
          <div>
            <label htmlFor="obj-label-en">{t("designer.label_en")}</label>
            <input id="obj-label-en" value={draft.labelEn} onChange={(e) => change({
              ...draft, labelEn: e.target.value, name: nameTouched ? draft.name : slugify(e.target.value),
              pluralEn: draft.pluralEn,
            })} />
          </div>
          <div>
            <label htmlFor="obj-label-zh">{t("designer.label_zh")}</label>
            <input id="obj-label-zh" value={draft.labelZh} onChange={(e) => change({ ...draft, labelZh: e.target.value })} />
          </div>
          <div>
            <label htmlFor="obj-plural-en">{t("designer.plural_en")}</label>
            <input id="obj-plural-en" value={draft.pluralEn} onChange={(e) => change({ ...draft, pluralEn: e.target.value })} />
          </div>
          <div>
            <label htmlFor="obj-plural-zh">{t("designer.plural_zh")}</label>
            <input id="obj-plural-zh" value={draft.pluralZh} onChange={(e) => change({ ...draft, pluralZh: e.target.value })} />
          </div>
          <div>
            <label htmlFor="obj-name">{t("designer.api_name")}</label>
            <input id="obj-name" value={draft.name} readOnly={!isNew} aria-describedby="obj-name-help"
              onChange={(e) => { setNameTouched(true); change({ ...draft, name: e.target.value }); }} />
            <small id="obj-name-help" className="muted">{t("designer.api_name_help")}</small>
          </div>
          <div>
            <label htmlFor="obj-title">{t("designer.title_field")}</label>
            <select id="obj-title" value={draft.titleField} onChange={(e) => change({ ...draft, titleField: e.target.value })}>
              <option value="">{t("designer.automatic")}</option>
              {draft.fields.filter((f) => f.name).map((f) => <option key={f.name} value={f.name}>{f.labelEn || f.name}</option>)}
            </select>
          </div>
        </div>
      </section>

      <h2>{t("designer.fields")}</h2>
      <ol className="field-list">
        {draft.fields.map((f, i) => (
          <li key={i} className={`card field-card${dragIndex === i ? " dragging" : ""}`}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => { e.preventDefault(); if (dragIndex !== null) change({ ...draft, fields: moveItem(draft.fields, dragIndex, i) }); setDragIndex(null); }}>
            <FieldEditor
              index={i}
              field={f}
              locked={existing.has(f.name)}
              targets={targets}
              onChange={(nf) => setField(i, nf)}
              onRemove={() => change({ ...draft, fields: draft.fields.filter((_, j) => j !== i) })}
              onMove={(by) => change({ ...draft, fields: moveItem(draft.fields, i, i + by) })}
              onDragStart={() => setDragIndex(i)}
            />
          </li>
        ))}
      </ol>
      <div className="toolbar">
        <label htmlFor="new-field-type" className="sr-only">{t("designer.field_type")}</label>
        <select id="new-field-type" defaultValue="text">
          {FIELD_TYPE_NAMES.map((type) => <option key={type} value={type}>{t(("type." + type) as MessageKey)}</option>)}
        </select>
        <button type="button" onClick={() => {
          const type = (document.getElementById("new-field-type") as HTMLSelectElement | null)?.value ?? "text";
          change({ ...draft, fields: [...draft.fields, emptyField(type)] });
        }}>{t("designer.add_field")}</button>
      </div>

      {problems.length > 0 && (
        <ul className="muted small" aria-label={t("designer.problems")}>
          {problems.map((p) => <li key={p}>{describeProblem(p, t)}</li>)}
        </ul>
      )}
      <ErrorMessage error={error} />
      {plan && <PlanView plan={plan} />}
      {forced && (
        <section className="card" aria-label={t("designer.force_title")}>
          <p>{t("designer.force_help")}</p>
          <PlanView plan={forced} label={t("designer.force_plan")} />
          <button type="button" className="danger" onClick={() => {
            if (window.confirm(t("designer.force_confirm"))) void apply(true);
          }}>{t("designer.force_apply")}</button>
        </section>
      )}
      {applied && (
        <p className="alert alert-ok" role="status">
          {t("designer.applied")} <Link to={`/designer/forms/new?object=${draft.name}`}>{t("designer.build_form")}</Link>{" · "}
          <Link to={`/o/${draft.name}`}>{t("admin.records")}</Link>
        </p>
      )}
      <div className="form-actions sticky">
        <button type="button" disabled={problems.length > 0} onClick={() => void checkPlan()}>{t("designer.check_plan")}</button>
        <button type="button" className="primary" disabled={problems.length > 0 || !plan || plan.problems.length > 0 || applied}
          onClick={() => void apply()}>{t("designer.apply")}</button>
        <button type="button" className="link" onClick={() => navigate("/designer")}>{t("common.cancel")}</button>
      </div>
    </div>
  );
}

function describeProblem(p: string, t: (k: MessageKey, v?: Record<string, string>) => string): string {
  const [code, arg = ""] = p.split(":");
  switch (code) {
    case "object_name": return t("designer.problem_object_name");
    case "no_fields": return t("designer.problem_no_fields");
    case "field_name": return t("designer.problem_field_name", { name: arg });
    case "duplicate": return t("designer.problem_duplicate", { name: arg });
    case "options": return t("designer.problem_options", { name: arg });
    case "target": return t("designer.problem_target", { name: arg });
    default: return p;
  }
}

function FieldEditor({ index, field, locked, targets, onChange, onRemove, onMove, onDragStart }: {
  index: number; field: FieldDraft; locked: boolean; targets: string[];
  onChange: (f: FieldDraft) => void; onRemove: () => void; onMove: (by: number) => void; onDragStart: () => void;
}) {
  const { t } = useI18n();
  const [nameTouched, setNameTouched] = useState(locked || !!field.name);
  const id = (part: string) => `f${index}-${part}`;
  const isChoice = field.type === "select" || field.type === "multiselect";
  return (
    <fieldset className="field-editor">
      <legend>
        <span className="drag-handle" draggable onDragStart={(e) => { e.dataTransfer.setData("text/plain", String(index)); onDragStart(); }}
          aria-hidden="true" title={t("designer.drag")}>⠿</span>
        {t("designer.field_n", { n: index + 1 })}{field.labelEn ? `: ${field.labelEn}` : ""}
      </legend>
      <div className="grid-3">
        <div>
          <label htmlFor={id("label-en")}>{t("designer.label_en")}</label>
          <input id={id("label-en")} value={field.labelEn} onChange={(e) => onChange({
            ...field, labelEn: e.target.value, name: nameTouched ? field.name : slugify(e.target.value),
          })} />
        </div>
        <div>
          <label htmlFor={id("label-zh")}>{t("designer.label_zh")}</label>
          <input id={id("label-zh")} value={field.labelZh} onChange={(e) => onChange({ ...field, labelZh: e.target.value })} />
        </div>
        <div>
          <label htmlFor={id("name")}>{t("designer.api_name")}</label>
          <input id={id("name")} value={field.name} readOnly={locked}
            onChange={(e) => { setNameTouched(true); onChange({ ...field, name: e.target.value }); }} />
        </div>
        <div>
          <label htmlFor={id("type")}>{t("designer.field_type")}</label>
          <select id={id("type")} value={field.type} onChange={(e) => onChange({ ...field, type: e.target.value })}>
            {FIELD_TYPE_NAMES.map((type) => <option key={type} value={type}>{t(("type." + type) as MessageKey)}</option>)}
          </select>
        </div>
        {field.type === "text" && (
          <div>
            <label htmlFor={id("max")}>{t("designer.max_length")}</label>
            <input id={id("max")} type="number" min={1} value={field.maxLength} onChange={(e) => onChange({ ...field, maxLength: e.target.value })} />
          </div>
        )}
        {field.type === "relation" && (
          <div>
            <label htmlFor={id("target")}>{t("designer.target")}</label>
            <select id={id("target")} value={field.target} onChange={(e) => onChange({ ...field, target: e.target.value })}>
              <option value="">{t("common.choose")}</option>
              {[...targets, "user"].map((o) => <option key={o} value={o}>{o}</option>)}
            </select>
          </div>
        )}
        <div>
          <label htmlFor={id("default")}>{t("designer.default")}</label>
          <input id={id("default")} value={field.defaultValue} onChange={(e) => onChange({ ...field, defaultValue: e.target.value })} />
        </div>
        <div>
          <label htmlFor={id("help-en")}>{t("designer.help_en")}</label>
          <input id={id("help-en")} value={field.helpEn} onChange={(e) => onChange({ ...field, helpEn: e.target.value })} />
        </div>
        <div>
          <label htmlFor={id("help-zh")}>{t("designer.help_zh")}</label>
          <input id={id("help-zh")} value={field.helpZh} onChange={(e) => onChange({ ...field, helpZh: e.target.value })} />
        </div>
      </div>
      <div className="row">
        <label className="inline"><input type="checkbox" checked={field.required} onChange={(e) => onChange({ ...field, required: e.target.checked })} />{t("designer.required")}</label>
        <label className="inline"><input type="checkbox" checked={field.unique} onChange={(e) => onChange({ ...field, unique: e.target.checked })} />{t("designer.unique")}</label>
        <label className="inline"><input type="checkbox" checked={field.index} onChange={(e) => onChange({ ...field, index: e.target.checked })} />{t("designer.index")}</label>
      </div>
      {isChoice && (
        <div className="options-editor">
          <h3>{t("designer.options")}</h3>
          <table>
            <thead><tr><th scope="col">{t("designer.option_value")}</th><th scope="col">{t("designer.label_en")}</th><th scope="col">{t("designer.label_zh")}</th><th /></tr></thead>
            <tbody>
              {field.options.map((o, j) => (
                <tr key={j}>
                  <td><input aria-label={t("designer.option_value_n", { n: j + 1 })} value={o.value}
                    onChange={(e) => onChange({ ...field, options: field.options.map((x, k) => (k === j ? { ...x, value: e.target.value } : x)) })} /></td>
                  <td><input aria-label={t("designer.option_en_n", { n: j + 1 })} value={o.en}
                    onChange={(e) => onChange({ ...field, options: field.options.map((x, k) => (k === j ? {
                      ...x, en: e.target.value, value: x.value && x.value !== slugify(x.en) ? x.value : slugify(e.target.value),
                    } : x)) })} /></td>
                  <td><input aria-label={t("designer.option_zh_n", { n: j + 1 })} value={o.zh}
                    onChange={(e) => onChange({ ...field, options: field.options.map((x, k) => (k === j ? { ...x, zh: e.target.value } : x)) })} /></td>
                  <td><button type="button" className="link danger" aria-label={t("designer.remove_option_n", { n: j + 1 })}
                    onClick={() => onChange({ ...field, options: field.options.filter((_, k) => k !== j) })}>×</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" onClick={() => onChange({ ...field, options: [...field.options, { value: "", en: "", zh: "" }] })}>
            {t("designer.add_option")}
          </button>
        </div>
      )}
      <div className="row">
        <button type="button" className="icon" aria-label={t("common.move_up")} onClick={() => onMove(-1)}>↑</button>
        <button type="button" className="icon" aria-label={t("common.move_down")} onClick={() => onMove(1)}>↓</button>
        <button type="button" className="link danger" onClick={onRemove}>{t("designer.remove_field")}</button>
      </div>
    </fieldset>
  );
}
