// A record form rendered by react-jsonschema-form from the object's schema and a form layout:
// sections with columns, widgets, help text, read-only fields. Client-side checks run first;
// the server's problems (e.g. an invalid phone number) are shown inline on their field.
import Form from "@rjsf/core";
import {
  englishStringTranslator, TranslatableString, type ErrorSchema,
  type ObjectFieldTemplateProps, type RJSFValidationError, type WidgetProps,
} from "@rjsf/utils";
import validator from "@rjsf/validator-ajv8";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import { fetchTitles, lookup, type LookupItem } from "../api/recordTools";
import type { FormDoc, ObjectDetail, ProblemItem, RecordData } from "../api/types";
import { useI18n, type MessageKey, type Translate } from "../i18n";
import { fromLocalInput, toLocalInput, userTimeZone } from "../lib/format";
import { buildForm, errorField, formDataOf, problemsToErrors, sectionOf, type SectionLayout } from "../lib/formSchema";
import { useUsers } from "./common";

interface Props {
  detail: ObjectDetail;
  form: FormDoc | null | undefined;
  initial?: Record<string, unknown>;
  submitLabel: string;
  onSubmit: (values: Record<string, unknown>) => Promise<void>;
  /** Rendered under the form, e.g. a conflict notice with a reload button. */
  footer?: ReactNode;
  preview?: boolean;
}

function PhoneWidget(props: WidgetProps) {
  const { id, value, required, disabled, readonly, onChange, onBlur, onFocus, placeholder, rawErrors } = props;
  return (
    <input id={id} name={id} type="tel" inputMode="tel" autoComplete="tel" className="form-control"
      value={value ?? ""} required={required} disabled={disabled} readOnly={readonly} placeholder={placeholder}
      aria-invalid={rawErrors && rawErrors.length ? true : undefined}
      aria-describedby={rawErrors && rawErrors.length ? `${id}__error` : undefined}
      onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      onBlur={(e) => onBlur(id, e.target.value)} onFocus={(e) => onFocus(id, e.target.value)} />
  );
}

/** A date and time read and written on the user's clock (their zone, not the browser's); stored as an instant. */
function DateTimeWidget(props: WidgetProps) {
  const { id, value, required, disabled, readonly, onChange, onBlur, onFocus, rawErrors } = props;
  const zone = userTimeZone();
  return (
    <span className="datetime-widget">
      <input id={id} name={id} type="datetime-local" className="form-control" value={toLocalInput(value as string | undefined, zone)}
        required={required} disabled={disabled} readOnly={readonly} data-zone={zone}
        aria-invalid={rawErrors && rawErrors.length ? true : undefined}
        aria-describedby={rawErrors && rawErrors.length ? `${id}__error` : undefined}
        onChange={(e) => onChange(e.target.value === "" ? undefined : fromLocalInput(e.target.value, zone))}
        onBlur={(e) => onBlur(id, e.target.value)} onFocus={(e) => onFocus(id, e.target.value)} />
      <span className="muted small"> {zone.replace(/_/g, " ")}</span>
    </span>
  );
}

function RelationWidget(props: WidgetProps) {
  const { id, value, disabled, readonly, onChange, options } = props;
  const { t } = useI18n();
  const target = String(options.target ?? "");
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<LookupItem[]>([]);
  const [chosen, setChosen] = useState<string>("");
  const asked = useRef(0);

  useEffect(() => {
    if (!value || target === "user") return;
    let live = true;
    fetchTitles({ [target]: [Number(value)] }).then(
      (found) => { if (live) setChosen(found[target]?.[String(value)]?.title ?? "#" + value); },
      () => { if (live) setChosen("#" + value); });
    return () => { live = false; };
  }, [value, target]);

  async function search(text: string) {
    setQuery(text);
    const n = ++asked.current;
    if (!text.trim()) { setResults([]); return; }
    try {
      const items = await lookup(target, text.trim());
      if (n === asked.current) setResults(items);  // an older answer never replaces a newer one
    } catch {
      if (n === asked.current) setResults([]);
    }
  }

  if (target === "user") return <UserSelect {...props} />;
  return (
    <div className="relation-widget">
      {value ? (
        <span className="chip">
          {chosen || "#" + value}
          {!readonly && !disabled && (
            <button type="button" className="chip-x" aria-label={t("form.clear")} onClick={() => onChange(undefined)}>×</button>
          )}
        </span>
      ) : null}
      {!readonly && !disabled && (
        <>
          <input id={id} type="search" placeholder={t("form.search_placeholder")} value={query} autoComplete="off"
            role="combobox" aria-expanded={results.length > 0} aria-controls={`${id}__options`}
            onChange={(e) => void search(e.target.value)} />
          {results.length > 0 && (
            <ul className="relation-results" role="listbox" id={`${id}__options`}>
              {results.map((r) => (
                <li key={r.id}>
                  <button type="button" role="option" aria-selected={false}
                    onClick={() => { onChange(r.id); setChosen(r.title); setResults([]); setQuery(""); }}>
                    {r.title}{r.subtitle && <span className="muted small"> · {r.subtitle}</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

function UserSelect({ id, value, disabled, readonly, onChange }: WidgetProps) {
  const { t } = useI18n();
  const users = useUsers();
  return (
    <select id={id} value={value ?? ""} disabled={disabled || readonly}
      onChange={(e) => onChange(e.target.value ? Number(e.target.value) : undefined)}>
      <option value="">{t("common.choose")}</option>
      {users.map((u) => <option key={u.id} value={u.id}>{u.display_name || u.username}</option>)}
    </select>
  );
}

/** Which collapsed sections are open: shared with the layout template through RJSF's formContext,
 * so an error inside a collapsed section can open it. */
interface SectionState {
  open: Set<string>;
  setOpen: (key: string, open: boolean) => void;
}

function makeLayout(sections: SectionLayout[]) {
  return function SectionsTemplate(props: ObjectFieldTemplateProps) {
    const state = props.registry.formContext as SectionState | undefined;
    if (props.fieldPathId.$id !== "root") {
      return <div className="nested">{props.properties.map((p) => <div key={p.name}>{p.content}</div>)}</div>;
    }
    const byName = new Map(props.properties.map((p) => [p.name, p]));
    const placed = new Set(sections.flatMap((s) => s.fields));
    const rest = props.properties.filter((p) => !placed.has(p.name));
    return (
      <div className="form-sections">
        {sections.map((s) => {
          const body = (
            <div className={`form-grid cols-${s.columns}`}>
              {s.fields.map((name) => {
                const p = byName.get(name);
                return p && !p.hidden ? <div key={name} className="form-cell">{p.content}</div> : null;
              })}
            </div>
          );
          return s.collapsed ? (
            <details key={s.key} className="form-section" data-section={s.key} open={state?.open.has(s.key) ?? false}
              onToggle={(e) => {
                const open = (e.currentTarget as HTMLDetailsElement).open;
                if (open !== state?.open.has(s.key)) state?.setOpen(s.key, open);
              }}>
              <summary>{s.label}</summary>
              {body}
            </details>
          ) : (
            <section key={s.key} className="form-section" aria-label={s.label || undefined}>
              {s.label && <h2>{s.label}</h2>}
              {body}
            </section>
          );
        })}
        {rest.map((p) => <div key={p.name}>{p.content}</div>)}
      </div>
    );
  };
}

const RJSF_KEYS: Partial<Record<TranslatableString, MessageKey>> = {
  [TranslatableString.YesLabel]: "common.yes",
  [TranslatableString.NoLabel]: "common.no",
  [TranslatableString.ErrorsLabel]: "form.errors",
  [TranslatableString.AddItemButton]: "common.add",
  [TranslatableString.AddButton]: "common.add",
  [TranslatableString.RemoveButton]: "common.remove",
  [TranslatableString.ClearLabel]: "form.clear",
  [TranslatableString.NowLabel]: "form.now",
};

/** Client-side validation messages in the user's language. */
export function localizeErrors(errors: RJSFValidationError[], t: Translate): RJSFValidationError[] {
  return errors.map((e) => {
    const p = (e.params ?? {}) as Record<string, unknown>;
    let message = e.message ?? "";
    switch (e.name) {
      case "required": message = t("validation.required"); break;
      case "pattern": message = t("validation.pattern"); break;
      case "maxLength": message = t("validation.max_length", { n: String(p.limit) }); break;
      case "minLength": message = t("validation.min_length", { n: String(p.limit) }); break;
      case "minimum": message = t("validation.minimum", { n: String(p.limit) }); break;
      case "maximum": message = t("validation.maximum", { n: String(p.limit) }); break;
      case "type": message = t("validation.type"); break;
      case "enum": message = t("validation.enum"); break;
      case "format": message = t("validation.format"); break;
      default: break;
    }
    return { ...e, message, stack: message };
  });
}

export function RecordForm({ detail, form, initial, submitLabel, onSubmit, footer, preview = false }: Props) {
  const { lang, t } = useI18n();
  const built = useMemo(() => buildForm(detail, form, lang), [detail, form, lang]);
  const [data, setData] = useState<Record<string, unknown>>(() => formDataOf(initial ?? {}));
  const [open, setOpenSet] = useState<Set<string>>(new Set());
  const sectionState = useMemo<SectionState>(() => ({
    open,
    setOpen: (key, isOpen) => setOpenSet((prev) => {
      const next = new Set(prev);
      if (isOpen) next.add(key); else next.delete(key);
      return next;
    }),
  }), [open]);
  const [extraErrors, setExtraErrors] = useState<Record<string, { __errors: string[] }> | undefined>();
  const [unplaced, setUnplaced] = useState<ProblemItem[]>([]);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const template = useMemo(() => makeLayout(built.sections), [built.sections]);
  const fieldNames = useMemo(() => Object.keys(built.schema.properties as object), [built.schema]);
  const titles = useMemo(() => {
    const props = built.schema.properties as Record<string, { title?: string }>;
    return (name: string) => props[name]?.title ?? name;
  }, [built.schema]);

  /** Open the section holding `field` (if collapsed) and move the focus to its input. */
  function reveal(field: string) {
    const section = sectionOf(built.sections, field);
    if (section?.collapsed) sectionState.setOpen(section.key, true);
    // after the section opened (the next render): inputs inside a closed <details> cannot take focus
    setTimeout(() => {
      const el = document.getElementById(`root_${field}`) ??
        document.querySelector<HTMLElement>(`[id^="root_${field}"]`);
      el?.focus();
      el?.scrollIntoView?.({ block: "center" });
    }, 0);
  }

  /** "Please correct ..." names the fields, so the message always points at something. */
  function fixMessage(fields: string[]): string {
    const names = [...new Set(fields.filter(Boolean))].map(titles);
    return names.length ? `${t("form.fix_errors")} (${names.join(", ")})` : t("form.fix_errors");
  }

  async function submit(values: Record<string, unknown>) {
    if (preview) return;
    setBusy(true);
    setFailure(null);
    setExtraErrors(undefined);
    setUnplaced([]);
    try {
      await onSubmit(values);
    } catch (e) {
      if (e instanceof ApiError && e.problems.length && !e.isStale) {
        const { errors, unplaced: rest } = problemsToErrors(e.problems, fieldNames);
        setExtraErrors(Object.keys(errors).length ? errors : undefined);
        setUnplaced(rest);
        const placed = Object.keys(errors);
        setFailure(placed.length ? fixMessage(placed) : e.message);
        if (placed[0]) reveal(placed[0]);
      } else if (!(e instanceof ApiError && e.isStale)) {
        setFailure(e instanceof Error ? e.message : String(e));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="record-form">
      <Form
        schema={built.schema}
        uiSchema={built.uiSchema}
        formData={data}
        validator={validator}
        widgets={{ PhoneWidget, RelationWidget, DateTimeWidget }}
        templates={{ ObjectFieldTemplate: template }}
        extraErrors={extraErrors as ErrorSchema | undefined}
        showErrorList={false}
        omitExtraData
        formContext={sectionState}
        focusOnFirstError={(error) => reveal(errorField(error.property))}
        noHtml5Validate
        transformErrors={(errors) => localizeErrors(
          errors.filter((e) => !built.readonly.includes(errorField(e.property))), t)}
        translateString={(s, params) => (RJSF_KEYS[s] ? t(RJSF_KEYS[s]!) : englishStringTranslator(s, params))}
        onChange={(e) => {
          setData(e.formData as Record<string, unknown>);
          if (extraErrors) setExtraErrors(undefined);
        }}
        onSubmit={(e) => void submit(e.formData as Record<string, unknown>)}
        onError={(errors) => setFailure(fixMessage(errors.map((e) => errorField(e.property))))}
      >
        {failure && <p className="alert alert-error" role="alert">{failure}</p>}
        {unplaced.length > 0 && (
          <ul className="alert alert-error">
            {unplaced.map((p, i) => <li key={i}>{p.field ? `${titles(errorField(p.field.replace(/^\//, "")))}: ` : ""}{p.message}</li>)}
          </ul>
        )}
        {footer}
        {!preview && (
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy}>{submitLabel}</button>
          </div>
        )}
      </Form>
    </div>
  );
}

export type { RecordData };
