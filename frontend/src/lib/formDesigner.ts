// The form designer's model: sections of field entries with widget, help, read-only and the
// option -> tag mapping, and its mapping to a form definition document (metadata/forms/*.json).
import type { FieldInfo, FormDoc, FormFieldEntry, Label } from "../api/types";
import { entryOf } from "./formSchema";

export interface EntryDraft {
  field: string;
  widget: string;
  readonly: boolean;
  helpEn: string;
  helpZh: string;
  placeholderEn: string;
  placeholderZh: string;
  /** option value -> comma-separated tag names */
  optionTags: Record<string, string>;
}

export interface SectionDraft {
  key: string;
  labelEn: string;
  labelZh: string;
  columns: number;
  collapsed: boolean;
  entries: EntryDraft[];
}

export interface FormDraft {
  name: string;
  object: string;
  labelEn: string;
  labelZh: string;
  isDefault: boolean;
  sections: SectionDraft[];
}

/** Widgets that make sense for each field type (first = the type's own). */
export const WIDGETS_BY_TYPE: Record<string, string[]> = {
  text: ["text", "textarea", "hidden"],
  textarea: ["textarea", "text", "hidden"],
  integer: ["number", "hidden"],
  decimal: ["decimal", "hidden"],
  boolean: ["checkbox", "switch", "hidden"],
  date: ["date", "hidden"],
  datetime: ["datetime", "hidden"],
  email: ["email", "hidden"],
  phone: ["phone", "hidden"],
  url: ["url", "hidden"],
  select: ["select", "radio", "hidden"],
  multiselect: ["checkboxes", "select", "hidden"],
  relation: ["relation", "hidden"],
  json: ["json", "hidden"],
};

function text(l: Label | undefined, lang: string): string {
  if (!l) return "";
  if (typeof l === "string") return lang === "en" ? l : "";
  return l[lang] ?? "";
}

function label(en: string, zh: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (en.trim()) out.en = en.trim();
  if (zh.trim()) out.zh = zh.trim();
  return Object.keys(out).length ? out : undefined;
}

export function entryDraft(entry: FormFieldEntry, field?: FieldInfo): EntryDraft {
  const e = entryOf(entry);
  const optionTags: Record<string, string> = {};
  for (const [opt, tags] of Object.entries(e.option_tags ?? {})) optionTags[opt] = tags.join(", ");
  return {
    field: e.field,
    widget: e.widget ?? "",
    readonly: !!e.readonly,
    helpEn: text(e.help, "en"),
    helpZh: text(e.help, "zh"),
    placeholderEn: text(e.placeholder, "en"),
    placeholderZh: text(e.placeholder, "zh"),
    optionTags: field ? optionTags : optionTags,
  };
}

export function formDraftFromDoc(doc: FormDoc): FormDraft {
  return {
    name: doc.name,
    object: doc.object,
    labelEn: text(doc.label, "en"),
    labelZh: text(doc.label, "zh"),
    isDefault: !!doc.default,
    sections: doc.sections.map((s, i) => ({
      key: s.key ?? "section_" + (i + 1),
      labelEn: text(s.label, "en"),
      labelZh: text(s.label, "zh"),
      columns: s.columns ?? 1,
      collapsed: !!s.collapsed,
      entries: s.fields.map((f) => entryDraft(f)),
    })),
  };
}

export function newFormDraft(object: string, fields: FieldInfo[], name: string, isDefault: boolean,
  objectLabel: { en: string; zh: string }): FormDraft {
  return {
    name, object, isDefault,
    labelEn: objectLabel.en ? `${objectLabel.en} form` : "",
    labelZh: objectLabel.zh ? `${objectLabel.zh}表单` : "",
    sections: [{ key: "main", labelEn: objectLabel.en, labelZh: objectLabel.zh, columns: 2, collapsed: false,
      entries: fields.map((f) => entryDraft(f.name)) }],
  };
}

export function tagList(text: string): string[] {
  return [...new Set(text.split(/[,，\s]+/).map((s) => s.trim()).filter(Boolean))];
}

export function entryDoc(e: EntryDraft): FormFieldEntry {
  const out: Exclude<FormFieldEntry, string> = { field: e.field };
  if (e.widget) out.widget = e.widget;
  const help = label(e.helpEn, e.helpZh);
  if (help) out.help = help;
  const placeholder = label(e.placeholderEn, e.placeholderZh);
  if (placeholder) out.placeholder = placeholder;
  if (e.readonly) out.readonly = true;
  const tags: Record<string, string[]> = {};
  for (const [opt, list] of Object.entries(e.optionTags)) {
    const names = tagList(list);
    if (names.length) tags[opt] = names;
  }
  if (Object.keys(tags).length) out.option_tags = tags;
  return Object.keys(out).length === 1 ? e.field : out;
}

export function formDoc(draft: FormDraft): FormDoc {
  const doc: FormDoc = { name: draft.name, object: draft.object, sections: [] };
  const l = label(draft.labelEn, draft.labelZh);
  if (l) doc.label = l;
  if (draft.isDefault) doc.default = true;
  doc.sections = draft.sections.filter((s) => s.entries.length).map((s) => {
    const section: FormDoc["sections"][number] = { key: s.key, fields: s.entries.map(entryDoc) };
    const sl = label(s.labelEn, s.labelZh);
    if (sl) section.label = sl;
    if (s.columns !== 1) section.columns = s.columns;
    if (s.collapsed) section.collapsed = true;
    return section;
  });
  return doc;
}

/** Every tag name the form's option mapping uses (to create the missing ones before applying). */
export function mappedTags(draft: FormDraft): string[] {
  const names = new Set<string>();
  for (const s of draft.sections) for (const e of s.entries) for (const list of Object.values(e.optionTags)) {
    for (const n of tagList(list)) names.add(n);
  }
  return [...names];
}

/** Move a field entry to (section, index); `from` null means from the palette (a new entry). */
export function placeEntry(draft: FormDraft, field: string, toSection: number, toIndex: number): FormDraft {
  let moving: EntryDraft | undefined;
  const sections = draft.sections.map((s) => {
    const at = s.entries.findIndex((e) => e.field === field);
    if (at < 0) return s;
    moving = s.entries[at];
    return { ...s, entries: s.entries.filter((_, i) => i !== at) };
  });
  const entry = moving ?? entryDraft(field);
  const target = sections[toSection];
  if (!target) return draft;
  const entries = target.entries.slice();
  entries.splice(Math.max(0, Math.min(toIndex, entries.length)), 0, entry);
  sections[toSection] = { ...target, entries };
  return { ...draft, sections };
}

export function removeEntry(draft: FormDraft, field: string): FormDraft {
  return { ...draft, sections: draft.sections.map((s) => ({ ...s, entries: s.entries.filter((e) => e.field !== field) })) };
}

export function unplacedFields(draft: FormDraft, fields: FieldInfo[]): FieldInfo[] {
  const placed = new Set(draft.sections.flatMap((s) => s.entries.map((e) => e.field)));
  return fields.filter((f) => !placed.has(f.name));
}
