// One search box in the top bar: names, phones in any format, e-mails and companies across every
// object the user may read (GET /search applies scope and hidden fields). Results grouped by
// object with titles; arrows move, Enter opens, Escape closes; "/" or Ctrl+K focuses the box.
import { useEffect, useMemo, useRef, useState } from "react";
import { shellApi, type SearchGroup } from "../api/shell";
import { useI18n } from "../i18n";
import { useRouter } from "../lib/router";
import { chosen, flatten, isSearchShortcut, moveActive } from "../lib/searchNav";
import { SHELL_TEXT } from "../lib/shellText";

const DEBOUNCE_MS = 250;

export function GlobalSearch() {
  const { label } = useI18n();
  const { navigate } = useRouter();
  const [q, setQ] = useState("");
  const [groups, setGroups] = useState<SearchGroup[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const hits = useMemo(() => flatten(groups ?? []), [groups]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isSearchShortcut(e)) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  useEffect(() => {
    const text = q.trim();
    if (!text) {
      setGroups(null);
      setBusy(false);
      return;
    }
    let stale = false;
    setBusy(true);
    const timer = window.setTimeout(() => {
      shellApi.search(text).then(
        (found) => { if (!stale) { setGroups(found); setActive(-1); } },
        () => { if (!stale) setGroups([]); },
      ).finally(() => { if (!stale) setBusy(false); });
    }, DEBOUNCE_MS);
    return () => { stale = true; window.clearTimeout(timer); };
  }, [q]);

  const go = (path: string) => {
    setOpen(false);
    setQ("");
    input.current?.blur();
    navigate(path);
  };

  const onKeyDown = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Escape") {
      setOpen(false);
      return;
    }
    if (e.key === "Enter") {
      const hit = chosen(hits, active);
      if (hit) {
        e.preventDefault();
        go(hit.path);
      }
      return;
    }
    const next = moveActive(e.key, active, hits.length);
    if (next !== null) {
      e.preventDefault();
      setOpen(true);
      setActive(next);
    }
  };

  const showList = open && q.trim() !== "";
  let index = -1;
  return (
    <div className="global-search" role="search">
      <input
        ref={input}
        type="search"
        role="combobox"
        aria-label={label(SHELL_TEXT.search)}
        aria-expanded={showList}
        aria-controls="global-search-results"
        aria-autocomplete="list"
        aria-activedescendant={showList && active >= 0 ? `search-hit-${active}` : undefined}
        placeholder={label(SHELL_TEXT.searchPlaceholder)}
        value={q}
        onChange={(e) => { setQ(e.target.value); setOpen(true); }}
        onFocus={() => setOpen(true)}
        onBlur={() => window.setTimeout(() => setOpen(false), 150)}
        onKeyDown={onKeyDown}
      />
      {showList && (
        <div id="global-search-results" className="search-results" role="listbox" aria-label={label(SHELL_TEXT.searchResults)}>
          {busy && !groups && <p className="muted">{label(SHELL_TEXT.searching)}</p>}
          {groups && !groups.length && <p className="muted">{label(SHELL_TEXT.noResults)}</p>}
          {groups?.map((g) => (
            <div key={g.object} role="group" aria-label={label(g.label, g.object)} className="search-group">
              <div className="search-group-label" aria-hidden="true">{label(g.label, g.object)}</div>
              {g.items.map((h) => {
                index += 1;
                const i = index;
                return (
                  <div
                    key={h.id}
                    id={`search-hit-${i}`}
                    role="option"
                    aria-selected={i === active}
                    className={"search-hit" + (i === active ? " active" : "")}
                    onMouseDown={(e) => { e.preventDefault(); go(hits[i].path); }}
                    onMouseEnter={() => setActive(i)}
                  >
                    <span className="search-title">{h.title}</span>
                    {h.subtitle && <span className="muted small"> · {h.subtitle}</span>}
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
