// Showing a stored value as text for one field: option labels in the user's language; dates and
// times in the user's zone and locale; phones in national format; numbers and amounts grouped
// (Intl APIs); relations as the target's title when known. Always plain text (React escapes it).
import type { FieldInfo, Label } from "../api/types";

type LabelFn = (label: Label | null | undefined, fallback?: string) => string;

export interface FormatOptions {
  /** "en" or "zh" (the UI language): picks the Intl locale. */
  lang?: string;
  /** An IANA zone; the browser's own when absent. */
  timeZone?: string;
  /** The record's currency (its `currency` field): decimal fields show as amounts in it. */
  currency?: string;
  /** The title of a relation's target record, when looked up (lib/titles.ts). */
  title?: (target: string, id: number) => string | undefined;
}

export function localeOf(lang: string | undefined): string {
  return lang === "zh" ? "zh-CN" : "en-US";
}

/** 2026-12-03T06:06:18.961604Z -> "Dec 3, 2026, 2:06 PM" (in the zone), never the raw ISO text. */
export function formatDateTime(value: string, lang?: string, timeZone?: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return new Intl.DateTimeFormat(localeOf(lang), { dateStyle: "medium", timeStyle: "short", timeZone }).format(d);
}

/** A calendar date (no zone: 2026-12-25 is the 25th everywhere). */
export function formatDate(value: string, lang?: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(localeOf(lang), { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

/** "3 hours ago" / "3小时前" relative to `now`. */
export function formatRelative(value: string, lang?: string, now: Date = new Date()): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const seconds = Math.round((d.getTime() - now.getTime()) / 1000);
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["second", 60], ["minute", 60], ["hour", 24], ["day", 30], ["month", 12], ["year", Infinity]];
  let amount = seconds;
  const rtf = new Intl.RelativeTimeFormat(localeOf(lang), { numeric: "auto" });
  for (const [unit, size] of steps) {
    if (Math.abs(amount) < size) return rtf.format(Math.trunc(amount), unit);
    amount /= size;
  }
  return rtf.format(Math.trunc(amount), "year");
}

/** +8613812345678 -> "138 1234 5678"; +862161234567 -> "021 6123 4567"; other countries grouped
 * after their code; anything else as stored. */
export function formatPhone(value: string): string {
  const cn = /^\+86(\d+)$/.exec(value);
  if (cn) {
    const n = cn[1];
    if (/^1\d{10}$/.test(n)) return `${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}`;
    const area = /^(10|2\d)/.test(n) ? 2 : 3;  // Beijing 010, 02x: two digits; others three
    const rest = n.slice(area);
    return `0${n.slice(0, area)} ${rest.length > 4 ? rest.slice(0, rest.length - 4) + " " + rest.slice(-4) : rest}`;
  }
  return value;
}

/** The digits a tel: link dials. */
export function telHref(value: string): string {
  return "tel:" + value.replace(/[^\d+]/g, "");
}

/** "50000.00" -> "50,000.00" (keeps the stored number of decimals; big values stay exact). */
export function formatDecimal(value: string | number, lang?: string): string {
  const text = String(value);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return text;
  const whole = new Intl.NumberFormat(localeOf(lang), { useGrouping: true }).format(BigInt(m[2]));
  return m[1] + whole + (m[3] !== undefined ? "." + m[3] : "");
}

/** An amount in its currency ("¥50,000.00", "$1,200.50"); the stored decimal string is formatted
 * exactly (Intl formats decimal strings without going through a float). */
export function formatMoney(value: string | number, currency: string, lang?: string): string {
  if (!/^[A-Z]{3}$/.test(currency)) return formatDecimal(value, lang);
  try {
    const fmt = new Intl.NumberFormat(localeOf(lang), { style: "currency", currency });
    return (fmt.format as (v: string | number) => string)(String(value));
  } catch {
    return formatDecimal(value, lang);
  }
}

export function formatValue(field: FieldInfo | undefined, value: unknown, label: LabelFn, options: FormatOptions = {}): string {
  if (value === null || value === undefined || value === "") return "";
  const type = field?.type;
  if (field && (type === "select" || type === "multiselect")) {
    const one = (v: unknown) => label(field.option_labels?.[String(v)], String(v));
    return Array.isArray(value) ? value.map(one).join(", ") : one(value);
  }
  if (typeof value === "string" && (type === "datetime" || /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value))) {
    return formatDateTime(value, options.lang, options.timeZone);
  }
  if (type === "date" && typeof value === "string") return formatDate(value, options.lang);
  if (type === "phone" && typeof value === "string") return formatPhone(value);
  if (type === "decimal" && options.currency && (typeof value === "string" || typeof value === "number")) {
    return formatMoney(value, options.currency, options.lang);
  }
  // small whole numbers as typed (a year is 2015, not 2,015); larger ones grouped
  if (type === "integer" && Math.abs(Number(value)) < 10000) return String(value);
  if ((type === "decimal" || type === "integer" || type === "number") && (typeof value === "string" || typeof value === "number")) {
    return formatDecimal(value, options.lang);
  }
  if (type === "relation") {
    const target = field?.target ?? "";
    return options.title?.(target, Number(value)) ?? "#" + String(value);
  }
  if (typeof value === "boolean") return value ? "✓" : "✗";
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
