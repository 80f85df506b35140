// Saved views on the server (GET/POST/PUT/DELETE /views): choose one (the built-in "My records",
// mine, or one shared with me), save the list's current columns, sort and filter under a name
// (the same name again replaces mine), delete one of mine. Browser-only views from before are
// uploaded once when the menu first loads for an object. Administrators share a list with teams or roles.
import { useCallback, useEffect, useState } from "react";
import { shellApi, type ServerView } from "../api/shell";
import type { Rule } from "../api/types";
import { useI18n } from "../i18n";
import { SHELL_TEXT, fill } from "../lib/shellText";
import { migrateLocalViews, type SavedView } from "../lib/views";
import { ErrorMessage } from "./common";

export interface ViewState {
  columns: string[];
  sort: string;
  rule: Rule | null;
}

const names = (text: string): string[] => text.split(/[,，\s]+/).map((n) => n.trim()).filter(Boolean);

export function ViewsMenu({ object, current, onApply, canShare = false }: {
  object: string; current: ViewState; onApply: (view: SavedView) => void; canShare?: boolean;
}) {
  const { label } = useI18n();
  const [views, setViews] = useState<ServerView[]>([]);
  const [chosen, setChosen] = useState("");
  const [name, setName] = useState("");
  const [teams, setTeams] = useState("");
  const [roles, setRoles] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    let found = await shellApi.views(object);
    const uploaded = await migrateLocalViews(object, found.filter((v) => v.mine).map((v) => v.name), shellApi.createView);
    if (uploaded) found = await shellApi.views(object);
    setViews(found);
  }, [object]);

  useEffect(() => { load().catch(setError); }, [load]);

  const apply = (id: string) => {
    setChosen(id);
    const v = views.find((x) => String(x.id) === id);
    if (!v) return;
    if (!v.builtin) setName(v.name);
    setTeams((v.shared?.teams ?? []).join(", "));
    setRoles((v.shared?.roles ?? []).join(", "));
    onApply({ name: v.name, columns: v.columns ?? current.columns, sort: v.sort ?? "", rule: v.filter ?? null });
  };

  const save = async () => {
    setError(null);
    setMessage(null);
    const body = { name: name.trim(), columns: current.columns, sort: current.sort || null, filter: current.rule,
      ...(canShare ? { shared: { teams: names(teams), roles: names(roles) } } : {}) };
    try {
      const same = views.find((v) => v.mine && !v.builtin && v.name === body.name);
      const saved = same ? await shellApi.updateView(Number(same.id), body) : await shellApi.createView({ object, ...body });
      await load();
      setChosen(String(saved.id));
      setMessage(label(SHELL_TEXT.viewSaved));
    } catch (e) {
      setError(e);
    }
  };

  const remove = async () => {
    const v = views.find((x) => String(x.id) === chosen);
    if (!v || !v.mine || v.builtin) return;
    setError(null);
    try {
      await shellApi.deleteView(Number(v.id));
      setChosen("");
      setName("");
      await load();
      setMessage(label(SHELL_TEXT.viewDeleted));
    } catch (e) {
      setError(e);
    }
  };

  const selected = views.find((x) => String(x.id) === chosen);
  return (
    <details className="dropdown views-menu">
      <summary>{label(SHELL_TEXT.views)}{selected ? `: ${selected.name}` : ""}</summary>
      <div className="dropdown-body">
        <label htmlFor={`views-${object}`}>{label(SHELL_TEXT.views)}</label>
        <select id={`views-${object}`} value={chosen} onChange={(e) => apply(e.target.value)}>
          <option value="">{label(SHELL_TEXT.allRecords)}</option>
          {views.map((v) => (
            <option key={String(v.id)} value={String(v.id)}>
              {v.name}{!v.mine && v.owner ? ` (${fill(label(SHELL_TEXT.sharedBy), { name: v.owner.name || "#" + v.owner.id })})` : ""}
            </option>
          ))}
        </select>
        <label htmlFor={`view-save-${object}`}>{label(SHELL_TEXT.viewName)}</label>
        <input id={`view-save-${object}`} value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        {canShare && (
          <>
            <label htmlFor={`view-teams-${object}`}>{label(SHELL_TEXT.shareTeams)}</label>
            <input id={`view-teams-${object}`} value={teams} onChange={(e) => setTeams(e.target.value)} />
            <label htmlFor={`view-roles-${object}`}>{label(SHELL_TEXT.shareRoles)}</label>
            <input id={`view-roles-${object}`} value={roles} onChange={(e) => setRoles(e.target.value)} />
          </>
        )}
        <div className="row">
          <button type="button" disabled={!name.trim()} onClick={() => void save()}>{label(SHELL_TEXT.saveView)}</button>
          {selected?.mine && !selected.builtin && (
            <button type="button" className="link danger" onClick={() => void remove()}>{label(SHELL_TEXT.deleteView)}</button>
          )}
        </div>
        {message && <p className="alert alert-ok" role="status">{message}</p>}
        <ErrorMessage error={error} />
      </div>
    </details>
  );
}
