// The tag box: suggests tags by label in the user's language as they type (GET /tags), and adds
// the chosen one by its name; a typed name that matches no tag is sent as typed.
import { useRef, useState } from "react";
import { suggestTags, type TagSuggestion } from "../api/recordTools";
import type { Label } from "../api/types";
import { useI18n } from "../i18n";

/** Suggestions for `q`: labels in `lang` (then any language) or names containing it, labels
 * starting with it first; tags already on the record left out. */
export function rankTags(items: TagSuggestion[], q: string, have: string[], pick: (l: Label | null | undefined, f?: string) => string): TagSuggestion[] {
  const needle = q.trim().toLowerCase();
  const shown = items.filter((t) => !have.includes(t.name));
  const starts = (t: TagSuggestion) => pick(t.label, t.name).toLowerCase().startsWith(needle);
  return shown.sort((a, b) => Number(starts(b)) - Number(starts(a)) || pick(a.label, a.name).localeCompare(pick(b.label, b.name)));
}

export function TagBox({ object, have, onAdd }: { object: string; have: string[]; onAdd: (tag: string) => Promise<void> }) {
  const { t, label } = useI18n();
  const [text, setText] = useState("");
  const [items, setItems] = useState<TagSuggestion[]>([]);
  const asked = useRef(0);

  async function type(value: string) {
    setText(value);
    const n = ++asked.current;
    if (!value.trim()) { setItems([]); return; }
    try {
      const found = await suggestTags(object, value.trim());
      if (n === asked.current) setItems(rankTags(found.filter((s) => !s.automatic), value, have, label));
    } catch {
      if (n === asked.current) setItems([]);
    }
  }

  async function add(name: string) {
    await onAdd(name);
    setText("");
    setItems([]);
  }

  return (
    <form className="tag-box" onSubmit={(e) => {
      e.preventDefault();
      const exact = items.find((s) => label(s.label, s.name).toLowerCase() === text.trim().toLowerCase()) ?? items[0];
      const name = exact?.name ?? text.trim();
      if (name) void add(name);
    }}>
      <div className="row">
        <label htmlFor="new-tag" className="sr-only">{t("record.add_tag")}</label>
        <input id="new-tag" value={text} placeholder={t("record.add_tag")} autoComplete="off" role="combobox"
          aria-expanded={items.length > 0} aria-controls="tag-suggestions" onChange={(e) => void type(e.target.value)} />
        <button type="submit">{t("common.add")}</button>
      </div>
      {items.length > 0 && (
        <ul id="tag-suggestions" className="relation-results" role="listbox" aria-label={t("tags.suggestions")}>
          {items.map((s) => (
            <li key={s.name}>
              <button type="button" role="option" aria-selected={false} onClick={() => void add(s.name)}>
                {label(s.label, s.name)}
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}
