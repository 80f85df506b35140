import { afterEach, describe, expect, it } from "vitest";
import type { FieldInfo } from "../api/types";
import {
  browserTimeZone, formatDate, formatDateTime, formatDecimal, formatMoney, formatPhone, formatRelative, formatValue,
  fromLocalInput, setUserTimeZone, telHref, toLocalInput, tomorrowAt, userTimeZone, zonedInstant,
} from "./format";

const label = (l: unknown, f = "") => (l && typeof l === "object" ? (l as Record<string, string>).en : (l as string) || f);
const field = (type: string, extra: Partial<FieldInfo> = {}): FieldInfo => ({ name: "x", type, label: "X", ...extra });

describe("format", () => {
  it("shows date-times in the zone and locale, never the raw ISO text", () => {
    const iso = "2026-12-03T06:06:18.961604Z";
    expect(formatDateTime(iso, "en", "Asia/Shanghai")).toBe("Dec 3, 2026, 2:06 PM");
    expect(formatDateTime(iso, "zh", "Asia/Shanghai")).toContain("2026年12月3日");
    expect(formatDateTime(iso, "en", "UTC")).toBe("Dec 3, 2026, 6:06 AM");
    expect(formatValue(field("datetime"), iso, label, { lang: "en", timeZone: "UTC" })).not.toContain("T06");
  });

  it("keeps calendar dates on their day in any zone", () => {
    expect(formatDate("2026-12-25", "en")).toBe("Dec 25, 2026");
    expect(formatDate("2026-12-25", "zh")).toBe("2026年12月25日");
  });

  it("says how long ago", () => {
    const now = new Date("2026-12-03T09:00:00Z");
    expect(formatRelative("2026-12-03T06:00:00Z", "en", now)).toBe("3 hours ago");
    expect(formatRelative("2026-12-03T06:00:00Z", "zh", now)).toBe("3小时前");
    expect(formatRelative("2026-12-01T09:00:00Z", "en", now)).toBe("2 days ago");
  });

  it("formats Chinese phones nationally and dials the stored digits", () => {
    expect(formatPhone("+8613812345678")).toBe("138 1234 5678");
    expect(formatPhone("+862161234567")).toBe("021 6123 4567");
    expect(formatPhone("+8657188776655")).toBe("0571 8877 6655");
    expect(formatPhone("0571-8877")).toBe("0571-8877");  // not E.164: as stored
    expect(telHref("+86 138-1234-5678")).toBe("tel:+8613812345678");
  });

  it("formats other countries' phones internationally, with their code", () => {
    expect(formatPhone("+14155550100")).toBe("+1 415-555-0100");
    expect(formatPhone("+442079460958")).toBe("+44 20 7946 0958");
    expect(formatPhone("+85221234567")).toBe("+852 2123 4567");
    expect(formatPhone("+81312345678")).toBe("+81 3 1234 5678");
    expect(formatPhone("+6561234567")).toBe("+65 6123 4567");
    expect(formatPhone("+74951234567")).toBe("+7 49 5123 4567");
    expect(formatValue(field("phone"), "+886212345678", label)).toBe("+886 2 1234 5678");
  });

  it("groups amounts exactly, keeping the stored decimals", () => {
    expect(formatDecimal("50000.00", "en")).toBe("50,000.00");
    expect(formatDecimal("12345678901234567890.5", "en")).toBe("12,345,678,901,234,567,890.5");
    expect(formatDecimal(-1234, "en")).toBe("-1,234");
    expect(formatValue(field("integer"), 2015, label, { lang: "en" })).toBe("2015");
    expect(formatValue(field("integer"), 1250000, label, { lang: "en" })).toBe("1,250,000");
    expect(formatValue(field("decimal"), "1200.50", label, { lang: "zh" })).toBe("1,200.50");
  });

  it("shows amounts in the record's currency, exactly", () => {
    expect(formatMoney("50000.00", "USD", "en")).toBe("$50,000.00");
    expect(formatMoney("12345678901234567.25", "CNY", "zh")).toBe("¥12,345,678,901,234,567.25");
    expect(formatValue(field("decimal"), "1200.5", label, { lang: "en", currency: "EUR" })).toBe("€1,200.50");
    expect(formatMoney("10", "bad", "en")).toBe("10");
  });

  it("shows a relation as its target's title when known, else #id", () => {
    const f = field("relation", { target: "account" });
    expect(formatValue(f, 4, label, { title: (t, id) => (t === "account" && id === 4 ? "Acme" : undefined) })).toBe("Acme");
    expect(formatValue(f, 5, label, { title: () => undefined })).toBe("#5");
  });

  it("shows option labels, never keys", () => {
    const f = field("select", { option_labels: { won: { en: "Won", zh: "赢单" } } });
    expect(formatValue(f, "won", label)).toBe("Won");
  });
});

describe("the user's time zone", () => {
  afterEach(() => setUserTimeZone(null));
  const iso = "2026-12-03T06:06:00Z";

  it("formats every time in the user's zone once it is set, the browser's before", () => {
    expect(userTimeZone()).toBe(browserTimeZone());
    setUserTimeZone("Asia/Shanghai");
    expect(formatDateTime(iso, "en")).toBe("Dec 3, 2026, 2:06 PM");
    expect(formatValue(field("datetime"), iso, label, { lang: "zh" })).toBe(formatDateTime(iso, "zh", "Asia/Shanghai"));
    setUserTimeZone("America/New_York");
    expect(formatDateTime(iso, "en")).toBe("Dec 3, 2026, 1:06 AM");
    expect(formatValue(field("datetime"), iso, label, { lang: "en" })).toBe("Dec 3, 2026, 1:06 AM");
    setUserTimeZone("Not/AZone");  // unknown: the browser's
    expect(userTimeZone()).toBe(browserTimeZone());
  });

  it("puts 'tomorrow 09:00' at 09:00 on the user's clock", () => {
    const now = new Date("2026-12-03T20:30:00Z");  // already Dec 4 in Shanghai, still Dec 3 in New York
    expect(tomorrowAt(9, now, "Asia/Shanghai").toISOString()).toBe("2026-12-05T01:00:00.000Z");
    expect(tomorrowAt(9, now, "America/New_York").toISOString()).toBe("2026-12-04T14:00:00.000Z");
    setUserTimeZone("America/New_York");
    expect(toLocalInput(tomorrowAt(9, now).toISOString())).toBe("2026-12-04T09:00");
  });

  it("reads and writes datetime inputs on the zone's clock, across a DST change", () => {
    expect(toLocalInput(iso, "Asia/Shanghai")).toBe("2026-12-03T14:06");
    expect(toLocalInput(iso, "America/New_York")).toBe("2026-12-03T01:06");
    expect(fromLocalInput("2026-12-03T14:06", "Asia/Shanghai")).toBe("2026-12-03T06:06:00.000Z");
    expect(fromLocalInput("2026-12-03T01:06", "America/New_York")).toBe("2026-12-03T06:06:00.000Z");
    expect(fromLocalInput("2026-07-01T09:00", "America/New_York")).toBe("2026-07-01T13:00:00.000Z");  // EDT
    expect(zonedInstant(2026, 3, 8, 12, 0, "America/New_York").toISOString()).toBe("2026-03-08T16:00:00.000Z");
    expect(fromLocalInput("", "UTC")).toBeUndefined();
    expect(toLocalInput(null, "UTC")).toBe("");
  });
});
