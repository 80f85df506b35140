// The designer's start page: record types, forms, tags and segments, each with its history.
import { useState } from "react";
import { api } from "../../api/client";
import type { Label } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { Link } from "../../lib/router";
import { TagsPanel, SegmentsPanel } from "./TagsSegments";
import { AdminNav } from "../admin/AdminOnly";
import { DeleteDefinition } from "../admin/DeleteDefinition";

type Tab = "objects" | "forms" | "tags" | "segments";

export function AdminHome() {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>(() => (new URLSearchParams(window.location.search).get("tab") as Tab) || "objects");
  const tabs: Tab[] = ["objects", "forms", "tags", "segments"];
  return (
    <div className="page">
      <PageHeader title={t("admin.title")} />
      <AdminNav />
      <div role="tablist" className="tabs" aria-label={t("admin.title")}>
        {tabs.map((name) => (
          <button key={name} type="button" role="tab" id={`tab-${name}`} aria-selected={tab === name}
            aria-controls={`panel-${name}`} onClick={() => { setTab(name); window.history.replaceState(null, "", `/designer?tab=${name}`); }}>
            {t(`admin.tab_${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "objects" && <Definitions kind="object" />}
        {tab === "forms" && <Definitions kind="form" />}
        {tab === "tags" && <TagsPanel />}
        {tab === "segments" && <SegmentsPanel />}
      </div>
    </div>
  );
}

function Definitions({ kind }: { kind: "object" | "form" }) {
  const { t, label } = useI18n();
  const docs = useLoad(() => api.definitions(kind), [kind]);
  const [newObject, setNewObject] = useState("");
  if (docs.error) return <ErrorMessage error={docs.error} />;
  if (!docs.data) return <Loading />;
  const nameOf = (d: Record<string, unknown>) => String(kind === "object" ? d.$id ?? d.name : d.name);
  return (
    <div>
      <div className="toolbar">
        {kind === "object" ? (
          <Link to="/designer/objects/new" className="button primary">{t("admin.new_object")}</Link>
        ) : (
          <FormStarter value={newObject} onChange={setNewObject} />
        )}
      </div>
      <table className="records">
        <thead>
          <tr>
            <th scope="col">{t("admin.name")}</th>
            <th scope="col">{t("admin.label")}</th>
            {kind === "form" && <th scope="col">{t("admin.object")}</th>}
            <th scope="col">{t("admin.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {docs.data.map((d) => {
            const name = nameOf(d);
            return (
              <tr key={name}>
                <td data-label={t("admin.name")}><code>{name}</code></td>
                <td data-label={t("admin.label")}>{label((kind === "object" ? d["x-label"] : d.label) as Label, String(d.title ?? name))}</td>
                {kind === "form" && <td data-label={t("admin.object")}>{String(d.object)}</td>}
                <td data-label={t("admin.actions")} className="row">
                  <Link to={`/designer/${kind}s/${name}`}>{t("common.edit")}</Link>
                  <Link to={`/designer/history/${kind}/${name}`}>{t("admin.history")}</Link>
                  {kind === "object" && <Link to={`/o/${name}`}>{t("admin.records")}</Link>}
                  {kind === "form" && <DeleteDefinition kind="form" name={name} onDeleted={docs.reload} />}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function FormStarter({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const { t, label } = useI18n();
  const objects = useLoad(() => api.objects(), []);
  return (
    <div className="row">
      <label htmlFor="form-object">{t("admin.form_for")}</label>
      <select id="form-object" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t("common.choose")}</option>
        {(objects.data ?? []).map((o) => <option key={o.name} value={o.name}>{label(o.label, o.name)}</option>)}
      </select>
      <Link to={`/designer/forms/new?object=${encodeURIComponent(value)}`} className={`button primary${value ? "" : " disabled"}`}
        aria-disabled={!value}>{t("admin.new_form")}</Link>
    </div>
  );
}
