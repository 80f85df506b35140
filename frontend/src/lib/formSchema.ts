// From an object's fields and a form definition to what react-jsonschema-form renders: a clean
// JSON Schema (no x- keywords, labels in the user's language), a uiSchema (order, widgets, help,
// placeholders, read-only) and the sections the layout template groups fields into.
import type { FieldInfo, FormDoc, FormFieldEntry, Label, ObjectDetail, ProblemItem } from "../api/types";
import { pickLabel, type Language } from "../i18n";

export interface SectionLayout {
  key: string;
  label: string;
  columns: number;
  collapsed: boolean;
  fields: string[];
}

export interface BuiltForm {
  schema: Record<string, unknown>;
  uiSchema: Record<string, unknown>;
  sections: SectionLayout[];
  /** Fields shown read-only: never validated in the browser and never sent. */
  readonly: string[];
}

/** Keywords that check a value; a read-only field keeps none of them (the user cannot fix it). */
const CHECKS = ["maxLength", "minLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
  "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "default"];

/** An optional field may be empty: the API sends null for it, so null is a valid value. Options
 * (enum) and lists (the API sends [] for them) stay as they are: an empty select is left out of the
 * form data (see formDataOf). */
export function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  const type = schema.type;
  if (typeof type === "string" && type !== "null" && type !== "array" && !("enum" in schema)) return { ...schema, type: [type, "null"] };
  return schema;
}

/** A read-only field: shown with its widget, but nothing about its value is checked (whatever
 * the enum check might still say is dropped with the field's other errors, see RecordForm). */
export function unchecked(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) if (!CHECKS.includes(k)) out[k] = v;
  return nullable(out);
}

/** A record as the form's data: empty (null) values left out, so an empty optional field is
 * simply unanswered instead of a value of the wrong type. */
export function formDataOf(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined));
}

/** The field a client-side validation error is about: ".email" / "email" / ".tags.0" -> "email". */
export function errorField(property: string | undefined): string {
  return (property ?? "").replace(/^\./, "").split(/[.[]/)[0];
}

/** The section holding a field (to open a collapsed one when the field has an error). */
export function sectionOf(sections: SectionLayout[], field: string): SectionLayout | undefined {
  return sections.find((s) => s.fields.includes(field));
}

const WIDGETS: Record<string, string> = {
  textarea: "textarea",
  switch: "checkbox",
  checkbox: "checkbox",
  radio: "radio",
  select: "select",
  checkboxes: "checkboxes",
  hidden: "hidden",
  email: "email",
  url: "uri",
  phone: "PhoneWidget",
  relation: "RelationWidget",
  date: "date",
  datetime: "datetime",
  decimal: "text",
};

const KEEP = ["maxLength", "minLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
  "minItems", "maxItems", "uniqueItems", "default"];

export function entryOf(entry: FormFieldEntry): Exclude<FormFieldEntry, string> {
  return typeof entry === "string" ? { field: entry } : entry;
}

/** The JSON Schema of one field for the form: only standard keywords, typed for the widget. */
export function fieldSchema(field: FieldInfo, declared: Record<string, unknown>, lang: Language): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of KEEP) if (key in declared) out[key] = declared[key];
  out.title = pickLabel(field.label, lang, field.name);
  const help = field.help ?? (declared["x-help"] as Label | undefined);
  if (help) out.description = pickLabel(help, lang);
  const options = field.options ?? (declared.enum as string[] | undefined) ??
    ((declared.items as Record<string, unknown> | undefined)?.enum as string[] | undefined) ?? [];
  switch (field.type) {
    case "integer":
      out.type = "integer";
      break;
    case "relation":
      out.type = "integer";
      break;
    case "decimal":
      out.type = "string";
      out.pattern = "^-?[0-9]+(\\.[0-9]+)?$";
      for (const k of ["minimum", "maximum"]) delete out[k];
      break;
    case "boolean":
      out.type = "boolean";
      break;
    case "date":
      out.type = "string";
      out.format = "date";
      break;
    case "datetime":
      out.type = "string";
      out.format = "date-time";
      break;
    case "select":
      out.type = "string";
      out.enum = options;
      break;
    case "multiselect":
      out.type = "array";
      out.items = { type: "string", enum: options };
      out.uniqueItems = true;
      break;
    case "json":
      out.type = "object";
      break;
    default:
      out.type = "string";
  }
  return out;
}

function optionNames(field: FieldInfo, lang: Language): string[] | undefined {
  if (!field.options || !field.options.length) return undefined;
  return field.options.map((o) => pickLabel(field.option_labels?.[o], lang, o));
}

/** Declared field schemas of the object, as the object endpoint returns them. */
function declaredOf(detail: ObjectDetail): Record<string, Record<string, unknown>> {
  const props = (detail.schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  return props;
}

/** The sections of a form; with no form, one section with every editable field. */
export function layoutOf(detail: ObjectDetail, form: FormDoc | null | undefined, lang: Language): SectionLayout[] {
  const known = new Set(detail.fields.map((f) => f.name));
  if (!form || !form.sections?.length) {
    return [{ key: "main", label: pickLabel(detail.label, lang, detail.name), columns: 2, collapsed: false,
      fields: detail.fields.map((f) => f.name) }];
  }
  return form.sections.map((s, i) => ({
    key: s.key ?? "section_" + i,
    label: pickLabel(s.label, lang),
    columns: Math.max(1, Math.min(4, s.columns ?? 1)),
    collapsed: !!s.collapsed,
    fields: s.fields.map((e) => entryOf(e).field).filter((name) => known.has(name)),
  }));
}

export function buildForm(detail: ObjectDetail, form: FormDoc | null | undefined, lang: Language): BuiltForm {
  const declared = declaredOf(detail);
  const sections = layoutOf(detail, form, lang);
  const entries = new Map<string, Exclude<FormFieldEntry, string>>();
  for (const s of form?.sections ?? []) for (const e of s.fields) entries.set(entryOf(e).field, entryOf(e));
  const byName = new Map(detail.fields.map((f) => [f.name, f]));
  const properties: Record<string, unknown> = {};
  const uiSchema: Record<string, unknown> = {};
  const order: string[] = [];
  const readonly: string[] = [];
  const requiredSet = new Set<string>((detail.schema?.required as string[] | undefined) ?? []);
  for (const f of detail.fields) if (f.required) requiredSet.add(f.name);
  for (const section of sections) {
    for (const name of section.fields) {
      const field = byName.get(name);
      if (!field) continue;
      const entry = entries.get(name) ?? { field: name };
      let schema = fieldSchema(field, declared[name] ?? {}, lang);
      if (entry.help) schema.description = pickLabel(entry.help, lang);
      const isReadonly = !!(entry.readonly || field.readonly);
      if (isReadonly) {
        schema = unchecked(schema);
        readonly.push(name);
      } else if (!requiredSet.has(name)) {
        schema = nullable(schema);
      }
      properties[name] = schema;
      order.push(name);
      const ui: Record<string, unknown> = {};
      const widget = entry.widget ?? field.widget ?? field.type;
      const mapped = WIDGETS[widget] ?? WIDGETS[field.type];
      if (field.type === "multiselect") ui["ui:widget"] = widget === "select" ? "select" : "checkboxes";
      else if (field.type === "boolean") ui["ui:widget"] = "checkbox";
      else if (field.type === "relation") ui["ui:widget"] = "RelationWidget";
      else if (field.type === "phone") ui["ui:widget"] = "PhoneWidget";
      else if (mapped && mapped !== "text") ui["ui:widget"] = mapped;
      if (field.type === "relation") ui["ui:options"] = { target: field.target };
      const names = optionNames(field, lang);
      if (names) ui["ui:enumNames"] = names;
      if (entry.placeholder) ui["ui:placeholder"] = pickLabel(entry.placeholder, lang);
      if (isReadonly) ui["ui:readonly"] = true;
      uiSchema[name] = ui;
    }
  }
  uiSchema["ui:order"] = [...order, "*"];
  uiSchema["ui:submitButtonOptions"] = { norender: true };
  const required = order.filter((n) => requiredSet.has(n) && !readonly.includes(n));
  const schema: Record<string, unknown> = { type: "object", properties };
  if (required.length) schema.required = required;
  return { schema, uiSchema, sections, readonly };
}

/** Server problems -> RJSF extraErrors: each message on its field (pointer or plain name). */
export function problemsToErrors(problems: ProblemItem[], fieldNames: string[]): {
  errors: Record<string, { __errors: string[] }>;
  unplaced: ProblemItem[];
} {
  const errors: Record<string, { __errors: string[] }> = {};
  const unplaced: ProblemItem[] = [];
  const known = new Set(fieldNames);
  for (const p of problems) {
    const name = (p.field ?? "").replace(/^\//, "").split("/")[0];
    if (name && known.has(name)) {
      (errors[name] ??= { __errors: [] }).__errors.push(p.message);
    } else {
      unplaced.push(p);
    }
  }
  return { errors, unplaced };
}

/** Only the values that differ from the original (what a PATCH sends). */
export function changedValues(original: Record<string, unknown>, edited: Record<string, unknown>,
  fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of fields) {
    const before = original[name] ?? null;
    const after = edited[name] ?? null;
    if (JSON.stringify(before) !== JSON.stringify(after)) out[name] = after;
  }
  return out;
}

/** Drop empty strings, null and undefined so an untouched optional field is not sent as "". */
export function cleanValues(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === null || v === "") continue;
    out[k] = v;
  }
  return out;
}

/** The form to show: the one asked for, else the object's default form, else the first. */
export function chooseForm(detail: ObjectDetail, wanted: string | null): FormDoc | null {
  const forms = detail.forms ?? [];
  return forms.find((f) => f.name === wanted) ?? forms.find((f) => f.name === detail.default_form) ??
    forms.find((f) => f.default) ?? forms[0] ?? null;
}
