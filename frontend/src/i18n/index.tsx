// Every string the UI shows goes through t(): catalogs en and zh hold the same keys (a test
// checks that, and that every key used in the source exists). User-supplied labels are not
// catalog entries: they come from definitions as {en, zh} and are picked with pickLabel().
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import type { Label } from "../api/types";
import { en } from "./en";
import { zh } from "./zh";

export type Language = "en" | "zh";
export type MessageKey = keyof typeof en;
export const CATALOGS: Record<Language, Record<MessageKey, string>> = { en, zh };
export const LANGUAGES: Language[] = ["en", "zh"];

export function normalizeLanguage(value: string | null | undefined): Language {
  return value && value.toLowerCase().startsWith("zh") ? "zh" : "en";
}

/** A catalog message with {name} placeholders filled in. */
export function translate(lang: Language, key: MessageKey, vars?: Record<string, string | number>): string {
  const template = CATALOGS[lang][key] ?? CATALOGS.en[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The text of a user-defined label in the language, falling back to English, any, then `fallback`. */
export function pickLabel(label: Label | null | undefined, lang: Language, fallback = ""): string {
  if (label === null || label === undefined) return fallback;
  if (typeof label === "string") return label || fallback;
  return label[lang] || label.en || Object.values(label).find((v) => !!v) || fallback;
}

export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** A catalog message for a key built from server data ("event." + kind), or the raw value. */
export function translateMaybe(lang: Language, prefix: string, value: string): string {
  const key = (prefix + value) as MessageKey;
  return key in CATALOGS[lang] ? CATALOGS[lang][key] : value;
}

interface I18nValue {
  lang: Language;
  setLang: (lang: Language) => void;
  t: Translate;
  label: (label: Label | null | undefined, fallback?: string) => string;
  /** Server values with catalog entries (event kinds, plan actions); unknown ones shown as they are. */
  tx: (prefix: "event." | "action.", value: string) => string;
}

const I18nContext = createContext<I18nValue | null>(null);
const STORAGE_KEY = "metacrm.lang";

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Language }) {
  const [lang, setLangState] = useState<Language>(
    () => initial ?? normalizeLanguage(localStorage.getItem(STORAGE_KEY) ?? navigator.language),
  );
  const setLang = useCallback((next: Language) => {
    localStorage.setItem(STORAGE_KEY, next);
    document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
    setLangState(next);
  }, []);
  const value = useMemo<I18nValue>(() => ({
    lang,
    setLang,
    t: (key, vars) => translate(lang, key, vars),
    label: (l, fallback) => pickLabel(l, lang, fallback),
    tx: (prefix, value) => translateMaybe(lang, prefix, value),
  }), [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
