// Roles as a matrix of objects × verbs, with the data scope and each field's rule (editable, read-only,
// hidden) per object. Saving replaces the role's grants; the server checks objects and fields.
import { useEffect, useState } from "react";
import { adminApi, type Grant, type Role } from "../../api/admin";
import { api } from "../../api/client";
import type { ObjectDetail } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { AdminOnly, AdminNav } from "./AdminOnly";
import { VERBS, fieldRule, setFieldRule, setScope, toggleVerb, type FieldRule } from "./logic";

const SCOPES = ["own", "team", "all"] as const;
const SCOPE_KEYS = { own: "role.scope_own", team: "role.scope_team", all: "role.scope_all" } as const;
const RULES: FieldRule[] = ["edit", "readonly", "hidden"];

export function RolesPage() {
  return <AdminOnly><RolesBody /></AdminOnly>;
}

function RolesBody() {
  const { t } = useI18n();
  const [tick, setTick] = useState(0);
  const roles = useLoad(() => adminApi.roles(), [tick]);
  const objects = useLoad(() => api.objects().then((list) => Promise.all(list.map((o) => api.object(o.name)))), []);
  const [current, setCurrent] = useState<string>("");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<unknown>(null);

  if (roles.error) return <ErrorMessage error={roles.error} />;
  if (!roles.data || !objects.data) return <Loading />;
  const role = roles.data.find((r) => r.name === current);

  async function create() {
    setError(null);
    try {
      const r = await adminApi.createRole(name, description);
      setName(""); setDescription("");
      setCurrent(r.name);
      setTick((x) => x + 1);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <div className="page">
      <PageHeader title={t("role.title")} />
      <AdminNav />
      <ErrorMessage error={error} />
      <div className="row" style={{ flexWrap: "wrap" }}>
        <label>{t("role.pick")}{" "}
          <select value={current} onChange={(e) => setCurrent(e.target.value)} aria-label={t("role.pick")}>
            <option value="">{t("common.choose")}</option>
            {roles.data.map((r) => <option key={r.name} value={r.name}>{r.name} ({t("role.users", { n: r.users })})</option>)}
          </select>
        </label>
        <form className="row" onSubmit={(e) => { e.preventDefault(); void create(); }}>
          <input aria-label={t("role.name")} placeholder={t("role.name")} value={name} required
            onChange={(e) => setName(e.target.value.toLowerCase().replace(/[^a-z0-9_]/g, "_"))} />
          <input aria-label={t("role.description")} placeholder={t("role.description")} value={description} onChange={(e) => setDescription(e.target.value)} />
          <button type="submit">{t("role.create")}</button>
        </form>
      </div>
      {role && <Matrix key={role.name} role={role} objects={objects.data} onSaved={() => setTick((x) => x + 1)} />}
    </div>
  );
}

function Matrix({ role, objects, onSaved }: { role: Role; objects: ObjectDetail[]; onSaved: () => void }) {
  const { t, label } = useI18n();
  const [grants, setGrants] = useState<Grant[]>(role.grants);
  const [open, setOpen] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => setSaved(false), [grants]);

  async function save() {
    setError(null);
    try {
      await adminApi.saveGrants(role.name, grants);
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e);
    }
  }

  return (
    <section aria-label={t("role.matrix", { role: role.name })}>
      <h2>{t("role.matrix", { role: role.name })}</h2>
      {role.description && <p className="muted">{role.description}</p>}
      <div style={{ overflowX: "auto" }}>
        <table className="records role-matrix">
          <thead>
            <tr>
              <th scope="col">{t("admin.object")}</th>
              {VERBS.map((v) => <th key={v} scope="col">{t(`role.verb_${v}`)}</th>)}
              <th scope="col">{t("role.scope")}</th>
              <th scope="col">{t("role.fields")}</th>
            </tr>
          </thead>
          <tbody>
            {[{ name: "*", label: { en: t("role.all_objects") }, schema: {}, fields: [], forms: [] } as ObjectDetail, ...objects].map((o) => {
              const g = grants.find((x) => x.object === o.name);
              const olabel = o.name === "*" ? t("role.all_objects") : label(o.label, o.name);
              return (
                <tr key={o.name}>
                  <th scope="row">{olabel}</th>
                  {VERBS.map((v) => (
                    <td key={v} data-label={t(`role.verb_${v}`)}>
                      <input type="checkbox" aria-label={t("role.verb_on", { verb: t(`role.verb_${v}`), object: olabel })}
                        checked={!!g?.verbs.includes(v)} onChange={() => setGrants(toggleVerb(grants, o.name, v))} />
                    </td>
                  ))}
                  <td data-label={t("role.scope")}>
                    <select disabled={!g} value={g?.scope ?? "own"} aria-label={t("role.scope_of", { object: olabel })}
                      onChange={(e) => setGrants(setScope(grants, o.name, e.target.value))}>
                      {SCOPES.map((s) => <option key={s} value={s}>{t(SCOPE_KEYS[s])}</option>)}
                    </select>
                  </td>
                  <td data-label={t("role.fields")}>
                    <button type="button" disabled={!g || o.name === "*"} onClick={() => setOpen(open === o.name ? null : o.name)}>
                      {t("role.field_rules", { n: (g?.hidden_fields.length ?? 0) + (g?.readonly_fields.length ?? 0) })}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {open && grants.find((x) => x.object === open) && (
        <FieldRules object={objects.find((o) => o.name === open)!} grant={grants.find((x) => x.object === open)!}
          onChange={(field, rule) => setGrants(setFieldRule(grants, open, field, rule))} />
      )}
      <ErrorMessage error={error} />
      <div className="toolbar row">
        <button type="button" className="primary" onClick={() => void save()}>{t("role.save")}</button>
        {saved && <span role="status" className="muted">{t("role.saved")}</span>}
      </div>
    </section>
  );
}

function FieldRules({ object, grant, onChange }: { object: ObjectDetail; grant: Grant; onChange: (field: string, rule: FieldRule) => void }) {
  const { t, label } = useI18n();
  return (
    <fieldset className="card">
      <legend>{t("role.fields_of", { object: label(object.label, object.name) })}</legend>
      <div className="form-grid">
        {object.fields.filter((f) => f.name !== "id").map((f) => (
          <label key={f.name}>{label(f.label, f.name)}
            <select value={fieldRule(grant, f.name)} aria-label={t("role.rule_of", { field: label(f.label, f.name) })}
              onChange={(e) => onChange(f.name, e.target.value as FieldRule)}>
              {RULES.map((r) => <option key={r} value={r}>{t(`role.rule_${r}`)}</option>)}
            </select>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
