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
  /** The name of a region value (GB/T 2260 code), when looked up (lib/titles.ts useRegionLabels). */
  region?: (code: string) => string | undefined;
}

export function localeOf(lang: string | undefined): string {
  return lang === "zh" ? "zh-CN" : "en-US";
}

let userZone: string | undefined;

/** This browser's IANA zone ("Asia/Shanghai"); UTC when the browser cannot tell. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** Whether Intl knows this zone (the server checks the same names against zoneinfo). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The logged-in user's zone (from /me; session.tsx sets it): every time the app shows or enters is
 * in it. None (null) or an unknown one: the browser's. */
export function setUserTimeZone(zone: string | null | undefined): void {
  userZone = zone && isTimeZone(zone) ? zone : undefined;
}

export function userTimeZone(): string {
  return userZone ?? browserTimeZone();
}

/** The zones to choose from (Intl's list where the browser has one). */
export function timeZoneNames(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const names = intl.supportedValuesOf?.("timeZone") ?? [];
  return names.includes("UTC") ? names : ["UTC", ...names];
}

/** 2026-12-03T06:06:18.961604Z -> "Dec 3, 2026, 2:06 PM" (in the zone: the user's unless given), never the raw ISO text. */
export function formatDateTime(value: string, lang?: string, timeZone?: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return new Intl.DateTimeFormat(localeOf(lang), { dateStyle: "medium", timeStyle: "short", timeZone: timeZone ?? userTimeZone() })
    .format(d);
}

interface WallTime { year: number; month: number; day: number; hour: number; minute: number; second: number }

/** The wall-clock reading of an instant in a zone. */
export function wallTime(instant: Date, timeZone: string = userTimeZone()): WallTime {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour") % 24, minute: get("minute"), second: get("second") };
}

/** The instant at which the clock in `timeZone` reads this wall time (month 1-12; days and hours may
 * overflow, as with Date.UTC). A wall time that a DST jump skips lands just after the jump. */
export function zonedInstant(year: number, month: number, day: number, hour = 0, minute = 0, timeZone: string = userTimeZone()): Date {
  const wanted = Date.UTC(year, month - 1, day, hour, minute);
  const offsetAt = (ms: number) => {
    const w = wallTime(new Date(ms), timeZone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
  };
  let guess = wanted - offsetAt(wanted);
  guess = wanted - offsetAt(guess);  // a second pass settles guesses across a DST change
  return new Date(guess);
}

/** Tomorrow at `hour`:00 on the clock of `timeZone` ("due tomorrow 09:00" means 09:00 where the user is). */
export function tomorrowAt(hour: number, now: Date = new Date(), timeZone: string = userTimeZone()): Date {
  const today = wallTime(now, timeZone);
  return zonedInstant(today.year, today.month, today.day + 1, hour, 0, timeZone);
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** An instant as a datetime-local input's value ("2026-12-04T09:00") on the zone's clock. */
export function toLocalInput(value: string | null | undefined, timeZone: string = userTimeZone()): string {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  const w = wallTime(d, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** A datetime-local input's value read on the zone's clock, as an ISO instant (undefined when empty or invalid). */
export function fromLocalInput(text: string, timeZone: string = userTimeZone()): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text);
  if (!m) return undefined;
  return zonedInstant(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), timeZone).toISOString();
}

/** A calendar date (no zone: 2026-12-25 is the 25th everywhere). */
export function formatDate(value: string, lang?: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(localeOf(lang), { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

/** A date ("2026-12-25") or an instant, whichever the value is; anything else as it is; "" for none. */
export function formatWhen(value: string | null | undefined, lang?: string): string {
  if (!value) return "";
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? formatDate(value, lang) : formatDateTime(value, lang);
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

// ITU country codes by length: 1 and 7 are one digit, these two-digit ones, every other code three.
const TWO_DIGIT_CODES = new Set(("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " +
  "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98").split(" "));

/** A national number in blocks of four from the end, a shorter head first. */
function blocks(n: string): string {
  const out: string[] = [];
  let rest = n;
  while (rest.length > 4) {
    out.unshift(rest.slice(-4));
    rest = rest.slice(0, -4);
  }
  if (rest) out.unshift(rest);
  return out.join(" ");
}

/** +8613812345678 -> "138 1234 5678"; +862161234567 -> "021 6123 4567" (national: the CRM's home
 * country); other countries international with their code: +14155550100 -> "+1 415-555-0100"
 * (North America), +442079460958 -> "+44 20 7946 0958", +85221234567 -> "+852 2123 4567";
 * anything that is not E.164 as stored. */
export function formatPhone(value: string): string {
  const cn = /^\+86(\d+)$/.exec(value);
  if (cn) {
    const n = cn[1];
    if (/^1\d{10}$/.test(n)) return `${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}`;
    const area = /^(10|2\d)/.test(n) ? 2 : 3;  // Beijing 010, 02x: two digits; others three
    const rest = n.slice(area);
    return `0${n.slice(0, area)} ${rest.length > 4 ? rest.slice(0, rest.length - 4) + " " + rest.slice(-4) : rest}`;
  }
  const m = /^\+(\d{7,15})$/.exec(value);
  if (!m) return value;
  const digits = m[1];
  const nanp = /^1(\d{3})(\d{3})(\d{4})$/.exec(digits);
  if (nanp) return `+1 ${nanp[1]}-${nanp[2]}-${nanp[3]}`;
  const size = digits[0] === "1" || digits[0] === "7" ? 1 : TWO_DIGIT_CODES.has(digits.slice(0, 2)) ? 2 : 3;
  return `+${digits.slice(0, size)} ${blocks(digits.slice(size))}`;
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
  if (type === "region" && typeof value === "string") return options.region?.(value) ?? value;
  if (type === "relation") {
    const target = field?.target ?? "";
    return options.title?.(target, Number(value)) ?? "#" + String(value);
  }
  if (typeof value === "boolean") return value ? "✓" : "✗";
  if (Array.isArray(value)) return value.map(String).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
