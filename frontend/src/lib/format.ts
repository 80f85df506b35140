// Showing a stored value as text for one field: option labels in the user's language, dates
// shortened. The result is always plain text (React escapes it), never markup.
import type { FieldInfo, Label } from "../api/types";

type LabelFn = (label: Label | null | undefined, fallback?: string) => string;

export function formatValue(field: FieldInfo | undefined, value: unknown, label: LabelFn): string {
  if (value === null || value === undefined || value === "") return "";
  if (field && (field.type === "select" || field.type === "multiselect")) {
    const one = (v: unknown) => label(field.option_labels?.[String(v)], String(v));
    return Array.isArray(value) ? value.map(one).join(", ") : one(value);
  }
  if (field?.type === "datetime" && typeof value === "string") return value.replace("T", " ").replace(/(:\d\d)(\.\d+)?Z$/, "$1Z");
  if (field?.type === "relation") return "#" + String(value);
  if (typeof value === "boolean") return value ? "✓" : "✗";
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
