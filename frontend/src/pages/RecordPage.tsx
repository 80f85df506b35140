// One record: its fields laid out by the form (relations as names, phones national, dates in the
// user's zone), tags by label, follow-up (calls, visits, notes, tasks), a readable timeline with
// activities merged in, conversion when the object has one, and records that point at it.
import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import { conversionOf } from "../api/recordTools";
import type { FieldInfo, ObjectDetail, RecordData, TimelineEvent } from "../api/types";
import { ActivityPanel, activityLink } from "../components/ActivityPanel";
import { ErrorMessage, Loading, PageHeader, TagChips, useLoad } from "../components/common";
import { BENEFIT_TEXT } from "./benefits/benefitText";
import { ConvertDialog } from "../components/ConvertDialog";
import { TagBox } from "../components/TagBox";
import { Timeline, When } from "../components/Timeline";
import { useI18n } from "../i18n";
import { formatValue, telHref } from "../lib/format";
import { chooseForm, layoutOf } from "../lib/formSchema";
import { rememberRecent } from "../lib/recent";
import { Link, useRouter } from "../lib/router";
import { timelineTitleIds } from "../lib/timeline";
import { mergeWanted, titleIn, useRegionLabels, useTitleMap, wantedTitles } from "../lib/titles";
import { useSession } from "../session";

interface Older {
  events: TimelineEvent[];
  activities: RecordData[];
  /** undefined: no older page loaded yet (the first page's cursor applies) */
  eventsCursor?: string | null;
  activitiesCursor?: string | null;
}
const NO_OLDER: Older = { events: [], activities: [] };

export function RecordPage({ object, id }: { object: string; id: number }) {
  const { t, label, lang } = useI18n();
  const { navigate } = useRouter();
  const [actionError, setActionError] = useState<unknown>(null);
  const [converting, setConverting] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const { me } = useSession();
  const perm = me?.permissions?.[object];
  const loaded = useLoad(async () => {
    const [detail, current] = await Promise.all([api.object(object), api.getRecord(object, id)]);
    return { detail, current };
  }, [object, id]);
  const timeline = useLoad(() => api.timelinePage(object, id), [object, id, loaded.data]);
  const extras = useLoad(async () => {
    const canActivity = object !== "activity" && !!me?.permissions?.activity?.read;
    const activity = canActivity ? await api.object("activity").catch(() => null) : null;
    const link = activity ? activityLink(activity, object) : null;
    const page = activity && link
      ? await api.listRecords("activity", { filter: { field: link, op: "eq", value: id }, sort: "-id", limit: 50 })
      : { items: [], next_cursor: null };
    const conversion = perm?.update ? await conversionOf(object).catch(() => null) : null;
    return { activity, link, activities: page.items, activitiesCursor: page.next_cursor, conversion };
  }, [object, id, loaded.data]);
  // older pages loaded by "show more", on top of the first pages above (a reload starts over)
  const [older, setOlder] = useState<Older>(NO_OLDER);
  useEffect(() => setOlder(NO_OLDER), [timeline.data, extras.data]);
  const events = useMemo(() => [...(timeline.data?.items ?? []), ...older.events], [timeline.data, older.events]);
  const activities = useMemo(() => [...(extras.data?.activities ?? []), ...older.activities], [extras.data, older.activities]);
  const eventsCursor = older.eventsCursor === undefined ? timeline.data?.next_cursor ?? null : older.eventsCursor;
  const activitiesCursor = older.activitiesCursor === undefined ? extras.data?.activitiesCursor ?? null : older.activitiesCursor;
  async function showMore() {
    const link = extras.data?.link;
    const [ev, act] = await Promise.all([
      eventsCursor ? api.timelinePage(object, id, eventsCursor) : null,
      activitiesCursor && link
        ? api.listRecords("activity", { filter: { field: link, op: "eq", value: id }, sort: "-id", limit: 50, cursor: activitiesCursor })
        : null,
    ]);
    setOlder((o) => ({
      events: ev ? [...o.events, ...ev.items] : o.events,
      eventsCursor: ev ? ev.next_cursor : eventsCursor,
      activities: act ? [...o.activities, ...act.items] : o.activities,
      activitiesCursor: act ? act.next_cursor : activitiesCursor,
    }));
  }
  useEffect(() => {
    if (!loaded.data || !me) return;
    const rec = loaded.data.current.record;
    rememberRecent(me.id, { object, id, title: String(rec[loaded.data.detail.title_field ?? "id"] ?? "#" + id) });
  }, [loaded.data, me, object, id]);

  const detail = loaded.data?.detail;
  const record = loaded.data?.current.record;
  const byName = useMemo(() => new Map((detail?.fields ?? []).map((f) => [f.name, f])), [detail]);
  const targets = useMemo(() => new Map((detail?.fields ?? []).filter((f) => f.type === "relation" && f.target)
    .map((f) => [f.name, f.target!])), [detail]);
  const titles = useTitleMap(detail && record ? mergeWanted(
    wantedTitles(detail.fields, [record]),
    timelineTitleIds(events, activities, targets),
  ) : {});

  const regions = useRegionLabels(detail?.fields, record ? [record] : undefined);

  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data || !detail || !record) return <Loading />;
  const { current } = loaded.data;
  const sections = layoutOf(detail, chooseForm(detail, null), lang);
  const title = String(record[detail.title_field ?? "id"] ?? "#" + record.id);
  const tags = Array.isArray(record.tags) ? record.tags : [];
  const owner = titleIn(titles, "user", record.owner_id);
  const opts = { lang, title: (target: string, rid: number) => titleIn(titles, target, rid), region: (code: string) => regions[code],
    currency: byName.get("currency") && typeof record.currency === "string" ? record.currency : undefined };
  const conversion = extras.data?.conversion;
  const converted = conversion?.targets.some((tg) => record[`converted_${tg.key}`]) || record.status === "converted";

  async function act(action: () => Promise<void>) {
    setActionError(null);
    try {
      await action();
      loaded.reload();
    } catch (e) {
      setActionError(e);
    }
  }

  function show(f: FieldInfo, name: string) {
    const v = record![name];
    const text = formatValue(f, v, label, opts);
    if (!text) return <span className="muted">—</span>;
    if (f.type === "relation" && f.target && f.target !== "user") return <Link to={`/o/${f.target}/${String(v)}`}>{text}</Link>;
    if (f.type === "phone" && typeof v === "string") return <a href={telHref(v)}>{text}</a>;
    if (f.type === "email" && typeof v === "string") return <a href={`mailto:${v}`}>{text}</a>;
    return text;
  }

  return (
    <div className="page">
      <PageHeader title={title}>
        <Link to={`/o/${object}`} className="button">{t("record.back")}</Link>
        {perm?.update !== false && <Link to={`/o/${object}/${id}/edit`} className="button primary">{t("common.edit")}</Link>}
        {object === "member" && <Link to={`/members/${id}`} className="button">{label(BENEFIT_TEXT.programme)}</Link>}
        {conversion && !converted && (
          <button type="button" onClick={() => setConverting(true)}>{t("convert.button")}</button>
        )}
        {perm?.delete && !confirmDelete && (
          <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>{t("common.delete")}</button>
        )}
      </PageHeader>
      {confirmDelete && (
        <div className="alert alert-warning row" role="alertdialog" aria-label={t("record.confirm_delete")}>
          <span>{t("record.confirm_delete")}</span>
          <button type="button" className="danger" onClick={() => {
            void api.deleteRecord(object, id, current.version ?? 0).then(() => navigate(`/o/${object}`), setActionError);
          }}>{t("common.delete")}</button>
          <button type="button" onClick={() => setConfirmDelete(false)}>{t("common.cancel")}</button>
        </div>
      )}
      <ErrorMessage error={actionError} />
      {converting && conversion && (
        <ConvertDialog object={object} id={id} title={title} info={conversion} sourceFields={byName}
          onClose={() => setConverting(false)} onDone={() => loaded.reload()} />
      )}
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
                    <div key={name} className="field" data-field={name}>
                      <dt>{label(f.label, name)}</dt>
                      <dd>{show(f, name)}</dd>
                    </div>
                  );
                })}
              </dl>
            </section>
          ))}
          <Related detail={detail} id={id} />
        </div>
        <aside>
          {extras.data?.activity && extras.data.link && me?.permissions?.activity?.create && (
            <ActivityPanel object={object} id={id} activity={extras.data.activity} onSaved={() => extras.reload()} />
          )}
          <section className="card" aria-labelledby="tags-title">
            <h2 id="tags-title">{t("record.tags")}</h2>
            <TagChips tags={tags} onRemove={(tag) => void act(() => api.removeTag(object, id, tag))} />
            {!tags.length && <p className="muted">{t("record.no_tags")}</p>}
            <TagBox object={object} have={tags} onAdd={(tag) => act(() => api.addTags(object, id, [tag]))} />
          </section>
          <section className="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">{t("record.timeline")}</h2>
            <ErrorMessage error={timeline.error} />
            <Timeline events={events} activities={activities} fields={byName}
              activityDetail={extras.data?.activity ?? null} titles={titles}
              eventsCursor={eventsCursor} activitiesCursor={activitiesCursor} onMore={showMore} />
          </section>
          <section className="card muted small">
            {owner && <p>{t("record.owner")}: {owner}</p>}
            <p>
              {t("record.created")} <When at={String(record.created_at ?? "")} /> · {t("record.updated")}{" "}
              <When at={String(record.updated_at ?? "")} /> · {t("record.version", { version: String(current.version ?? "") })}
            </p>
          </section>
        </aside>
      </div>
    </div>
  );
}

function Related({ detail, id }: { detail: ObjectDetail; id: number }) {
  const { t, label } = useI18n();
  const { objects } = useSession();
  const related = useLoad(async () => {
    const out: { object: ObjectDetail; via: FieldInfo; items: RecordData[] }[] = [];
    for (const o of objects) {
      if (o.name === "activity") continue;  // activities are on the timeline
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
