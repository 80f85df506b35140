// One record: its fields laid out by the form, tags (add/remove), the timeline of record events
// (who changed what, from what to what), and records of other objects that point at it.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { FieldInfo, ObjectDetail, RecordData, TimelineEvent, UserSummary } from "../api/types";
import { ErrorMessage, Loading, PageHeader, TagChips, useLoad, userName, useUsers } from "../components/common";
import { useI18n } from "../i18n";
import { formatValue } from "../lib/format";
import { layoutOf } from "../lib/formSchema";
import { rememberRecent } from "../lib/recent";
import { Link, useRouter } from "../lib/router";
import { useSession } from "../session";
import { chooseForm } from "./RecordFormPage";

export function RecordPage({ object, id }: { object: string; id: number }) {
  const { t, label, lang } = useI18n();
  const { navigate } = useRouter();
  const [actionError, setActionError] = useState<unknown>(null);
  const [newTag, setNewTag] = useState("");
  const users = useUsers();
  const loaded = useLoad(async () => {
    const [detail, current] = await Promise.all([api.object(object), api.getRecord(object, id)]);
    return { detail, current };
  }, [object, id]);
  const timeline = useLoad(() => api.timeline(object, id), [object, id, loaded.data]);
  const { me } = useSession();
  useEffect(() => {
    if (!loaded.data || !me) return;
    const rec = loaded.data.current.record;
    rememberRecent(me.id, { object, id, title: String(rec[loaded.data.detail.title_field ?? "id"] ?? "#" + id) });
  }, [loaded.data, me, object, id]);

  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  const { detail, current } = loaded.data;
  const record = current.record;
  const byName = new Map(detail.fields.map((f) => [f.name, f]));
  const sections = layoutOf(detail, chooseForm(detail, null), lang);
  const title = String(record[detail.title_field ?? "id"] ?? "#" + record.id);
  const tags = Array.isArray(record.tags) ? record.tags : [];
  const owner = userName(users, record.owner_id);

  async function act(action: () => Promise<void>) {
    setActionError(null);
    try {
      await action();
      loaded.reload();
    } catch (e) {
      setActionError(e);
    }
  }

  return (
    <div className="page">
      <PageHeader title={title}>
        <Link to={`/o/${object}`} className="button">{t("record.back")}</Link>
        <Link to={`/o/${object}/${id}/edit`} className="button primary">{t("common.edit")}</Link>
        <button type="button" className="danger" onClick={() => {
          if (!window.confirm(t("record.confirm_delete"))) return;
          void api.deleteRecord(object, id, current.version ?? 0).then(() => navigate(`/o/${object}`), setActionError);
        }}>{t("common.delete")}</button>
      </PageHeader>
      <ErrorMessage error={actionError} />
      <div className="record-layout">
        <div>
          {sections.map((s) => (
            <section key={s.key} className="card">
              {s.label && <h2>{s.label}</h2>}
              <dl className={`fields cols-${Math.min(s.columns, 2)}`}>
                {s.fields.map((name) => {
                  const f = byName.get(name);
                  if (!f) return null;
                  return (
                    <div key={name} className="field">
                      <dt>{label(f.label, name)}</dt>
                      <dd>{f.type === "relation" && record[name] && f.target !== "user"
                        ? <Link to={`/o/${f.target}/${String(record[name])}`}>{formatValue(f, record[name], label)}</Link>
                        : formatValue(f, record[name], label) || <span className="muted">—</span>}</dd>
                    </div>
                  );
                })}
              </dl>
            </section>
          ))}
          <Related detail={detail} id={id} />
        </div>
        <aside>
          <section className="card" aria-labelledby="tags-title">
            <h2 id="tags-title">{t("record.tags")}</h2>
            <TagChips tags={tags} onRemove={(tag) => void act(() => api.removeTag(object, id, tag))} />
            {!tags.length && <p className="muted">{t("record.no_tags")}</p>}
            <form className="row" onSubmit={(e) => {
              e.preventDefault();
              const tag = newTag.trim();
              if (tag) void act(async () => { await api.addTags(object, id, [tag]); setNewTag(""); });
            }}>
              <label htmlFor="new-tag" className="sr-only">{t("record.add_tag")}</label>
              <input id="new-tag" value={newTag} placeholder={t("record.add_tag")} onChange={(e) => setNewTag(e.target.value)} />
              <button type="submit">{t("common.add")}</button>
            </form>
          </section>
          <section className="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">{t("record.timeline")}</h2>
            <ErrorMessage error={timeline.error} />
            <Timeline events={timeline.data ?? []} fields={byName} />
          </section>
          <section className="card muted small">
            {owner && <p>{t("record.owner")}: {owner}</p>}
            <p>{t("record.meta", { created: String(record.created_at ?? ""), updated: String(record.updated_at ?? ""), version: String(current.version ?? "") })}</p>
          </section>
        </aside>
      </div>
    </div>
  );
}

function actorName(e: TimelineEvent, users: UserSummary[]): string {
  if (typeof e.actor === "string") return e.actor;
  if (e.actor && typeof e.actor === "object") return e.actor.display_name ?? e.actor.username ?? String(e.actor.id ?? "");
  return userName(users, e.actor_id);
}

function Timeline({ events, fields }: { events: TimelineEvent[]; fields: Map<string, FieldInfo> }) {
  const { t, label, tx } = useI18n();
  const users = useUsers();
  if (!events.length) return <p className="muted">{t("record.no_events")}</p>;
  return (
    <ol className="timeline">
      {events.map((e, i) => {
        const before = e.changes?.before ?? {};
        const after = e.changes?.after ?? {};
        const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
        const kind = String(e.type ?? e.kind ?? e.action ?? "");
        return (
          <li key={e.id ?? i}>
            <div className="timeline-head">
              <strong>{tx("event.", kind)}</strong> <span className="muted">{String(e.at ?? e.created_at ?? "")}</span>
              {actorName(e, users) && <span className="muted"> · {actorName(e, users)}</span>}
            </div>
            {names.length > 0 && (
              <ul className="changes">
                {names.map((n) => {
                  const f = fields.get(n);
                  return (
                    <li key={n}>
                      <span>{n === "owner_id" ? t("record.owner") : label(f?.label, n)}</span>: <del>{n === "owner_id" ? userName(users, before[n]) : formatValue(f, before[n], label)}</del> → <ins>{n === "owner_id" ? userName(users, after[n]) : formatValue(f, after[n], label)}</ins>
                    </li>
                  );
                })}
              </ul>
            )}
          </li>
        );
      })}
    </ol>
  );
}

function Related({ detail, id }: { detail: ObjectDetail; id: number }) {
  const { t, label } = useI18n();
  const { objects } = useSession();
  const related = useLoad(async () => {
    const out: { object: ObjectDetail; via: FieldInfo; items: RecordData[] }[] = [];
    for (const o of objects) {
      let d: ObjectDetail;
      try {
        d = await api.object(o.name);
      } catch {
        continue;
      }
      for (const f of d.fields) {
        if (f.type !== "relation" || f.target !== detail.name) continue;
        const page = await api.listRecords(d.name, { filter: { field: f.name, op: "eq", value: id }, limit: 10, sort: "-id" });
        if (page.items.length) out.push({ object: d, via: f, items: page.items });
      }
    }
    return out;
  }, [detail.name, id, objects]);
  if (!related.data?.length) return null;
  return (
    <section className="card" aria-labelledby="related-title">
      <h2 id="related-title">{t("record.related")}</h2>
      {related.data.map(({ object, via, items }) => (
        <div key={object.name + via.name}>
          <h3>{label(object.plural_label ?? object.label, object.name)} <span className="muted">({label(via.label, via.name)})</span></h3>
          <ul>
            {items.map((r) => (
              <li key={r.id}><Link to={`/o/${object.name}/${r.id}`}>{String(r[object.title_field ?? "id"] ?? "#" + r.id)}</Link></li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}
