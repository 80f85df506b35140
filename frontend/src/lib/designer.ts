// The object designer's editable model and its mapping to an object definition document
// (the JSON Schema of the records with x- keywords, as in metadata/objects/*.json).

export const FIELD_TYPE_NAMES = ["text", "textarea", "integer", "decimal", "boolean", "date", "datetime", "email",
  "phone", "url", "select", "multiselect", "relation"] as const;

export interface OptionDraft {
  value: string;
  en: string;
  zh: string;
}

export interface FieldDraft {
  name: string;
  type: string;
  labelEn: string;
  labelZh: string;
  helpEn: string;
  helpZh: string;
  required: boolean;
  unique: boolean;
  index: boolean;
  maxLength: string;
  target: string;
  defaultValue: string;
  options: OptionDraft[];
  /** Declaration keywords the designer does not edit, kept as they were. */
  extra: Record<string, unknown>;
}

export interface ObjectDraft {
  name: string;
  labelEn: string;
  labelZh: string;
  pluralEn: string;
  pluralZh: string;
  titleField: string;
  fields: FieldDraft[];
  /** Top-level keywords the designer does not edit (x-indexes, description ...). */
  extra: Record<string, unknown>;
}

const IDENT = /^[a-z][a-z0-9_]{0,62}$/;

export function isIdentifier(name: string): boolean {
  return IDENT.test(name);
}

/** "Trade show lead" -> "trade_show_lead": a valid identifier from a human label. */
export function slugify(label: string): string {
  const slug = label.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  const start = /^[a-z]/.test(slug) ? slug : slug ? "f_" + slug : "";
  return start.slice(0, 63);
}

export function emptyField(type = "text"): FieldDraft {
  return { name: "", type, labelEn: "", labelZh: "", helpEn: "", helpZh: "", required: false, unique: false,
    index: false, maxLength: "", target: "", defaultValue: "", options: [], extra: {} };
}

export function emptyObject(): ObjectDraft {
  return { name: "", labelEn: "", labelZh: "", pluralEn: "", pluralZh: "", titleField: "", fields: [], extra: {} };
}

function label(en: string, zh: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (en.trim()) out.en = en.trim();
  if (zh.trim()) out.zh = zh.trim();
  return Object.keys(out).length ? out : undefined;
}

const FIELD_KEYS = new Set(["x-field", "x-label", "x-help", "x-unique", "x-index", "x-target", "x-option-labels",
  "enum", "items", "maxLength", "default"]);
const OBJECT_KEYS = new Set(["$id", "title", "x-label", "x-plural-label", "x-title-field", "type", "properties",
  "required", "additionalProperties"]);

function defaultOf(field: FieldDraft): unknown {
  const raw = field.defaultValue.trim();
  if (!raw) return undefined;
  if (field.type === "integer") return Number.isFinite(Number(raw)) ? Number(raw) : undefined;
  if (field.type === "boolean") return raw === "true";
  if (field.type === "multiselect") return raw.split(",").map((s) => s.trim()).filter(Boolean);
  return raw;
}

export function fieldDoc(field: FieldDraft): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...field.extra, "x-field": field.type };
  const l = label(field.labelEn, field.labelZh);
  if (l) doc["x-label"] = l;
  const h = label(field.helpEn, field.helpZh);
  if (h) doc["x-help"] = h;
  if (field.unique) doc["x-unique"] = true;
  if (field.index) doc["x-index"] = true;
  if (field.type === "relation") doc["x-target"] = field.target;
  if ((field.type === "text") && field.maxLength.trim()) doc.maxLength = Number(field.maxLength);
  if (field.type === "select" || field.type === "multiselect") {
    const values = field.options.map((o) => o.value.trim()).filter(Boolean);
    if (field.type === "select") doc.enum = values;
    else doc.items = { type: "string", enum: values };
    const labels: Record<string, Record<string, string>> = {};
    for (const o of field.options) {
      const ol = label(o.en, o.zh);
      if (o.value.trim() && ol) labels[o.value.trim()] = ol;
    }
    if (Object.keys(labels).length) doc["x-option-labels"] = labels;
  }
  const d = defaultOf(field);
  if (d !== undefined) doc.default = d;
  return doc;
}

/** The object definition document the designer's draft stands for. */
export function objectDoc(draft: ObjectDraft): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const f of draft.fields) properties[f.name] = fieldDoc(f);
  const doc: Record<string, unknown> = { ...draft.extra, $id: draft.name, title: draft.labelEn || draft.name };
  const l = label(draft.labelEn, draft.labelZh);
  if (l) doc["x-label"] = l;
  const pl = label(draft.pluralEn, draft.pluralZh);
  if (pl) doc["x-plural-label"] = pl;
  const title = draft.titleField || draft.fields.find((f) => f.type === "text")?.name;
  if (title) doc["x-title-field"] = title;
  doc.type = "object";
  doc.properties = properties;
  const required = draft.fields.filter((f) => f.required).map((f) => f.name);
  if (required.length) doc.required = required;
  return doc;
}

function text(l: unknown, lang: string): string {
  if (typeof l === "string") return lang === "en" ? l : "";
  if (l && typeof l === "object") return String((l as Record<string, string>)[lang] ?? "");
  return "";
}

export function draftFromDoc(doc: Record<string, unknown>): ObjectDraft {
  const props = (doc.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((doc.required as string[] | undefined) ?? []);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!OBJECT_KEYS.has(k)) extra[k] = v;
  return {
    name: String(doc.$id ?? ""),
    labelEn: text(doc["x-label"], "en") || String(doc.title ?? ""),
    labelZh: text(doc["x-label"], "zh"),
    pluralEn: text(doc["x-plural-label"], "en"),
    pluralZh: text(doc["x-plural-label"], "zh"),
    titleField: String(doc["x-title-field"] ?? ""),
    extra,
    fields: Object.entries(props).map(([name, d]) => {
      const fextra: Record<string, unknown> = {};
      const type = String(d["x-field"] ?? "text");
      for (const [k, v] of Object.entries(d)) if (!FIELD_KEYS.has(k) || (k === "maxLength" && type !== "text")) fextra[k] = v;
      const values = (type === "multiselect" ? (d.items as Record<string, unknown> | undefined)?.enum : d.enum) as
        string[] | undefined;
      const optionLabels = (d["x-option-labels"] ?? {}) as Record<string, unknown>;
      const def = d.default;
      return {
        name, type, extra: fextra,
        labelEn: text(d["x-label"], "en"), labelZh: text(d["x-label"], "zh"),
        helpEn: text(d["x-help"], "en"), helpZh: text(d["x-help"], "zh"),
        required: required.has(name), unique: !!d["x-unique"], index: !!d["x-index"],
        maxLength: d.maxLength !== undefined && type === "text" ? String(d.maxLength) : "",
        target: String(d["x-target"] ?? ""),
        defaultValue: def === undefined ? "" : Array.isArray(def) ? def.join(",") : String(def),
        options: (values ?? []).map((v) => ({ value: v, en: text(optionLabels[v], "en"), zh: text(optionLabels[v], "zh") })),
      };
    }),
  };
}

/** Problems the designer can tell before asking the server (the server checks everything again). */
export function draftProblems(draft: ObjectDraft): string[] {
  const problems: string[] = [];
  if (!isIdentifier(draft.name)) problems.push("object_name");
  if (!draft.fields.length) problems.push("no_fields");
  const seen = new Set<string>();
  for (const f of draft.fields) {
    if (!isIdentifier(f.name)) problems.push("field_name:" + (f.name || "?"));
    if (seen.has(f.name)) problems.push("duplicate:" + f.name);
    seen.add(f.name);
    if ((f.type === "select" || f.type === "multiselect") && !f.options.some((o) => o.value.trim())) {
      problems.push("options:" + f.name);
    }
    if (f.type === "relation" && !f.target) problems.push("target:" + f.name);
  }
  return problems;
}

export function moveItem<T>(items: T[], from: number, to: number): T[] {
  if (from === to || from < 0 || to < 0 || from >= items.length || to >= items.length) return items;
  const copy = items.slice();
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item);
  return copy;
}
