// A readable timeline: field and option labels (never keys), tag labels, user names, relative
// times with the absolute time (user's zone and locale) on hover; activities merged in.
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { FieldInfo, Label, ObjectDetail, RecordData, TimelineEvent } from "../api/types";
import { useI18n } from "../i18n";
import { formatDateTime, formatRelative, formatValue, type FormatOptions } from "../lib/format";
import { Link } from "../lib/router";
import { changedNames, pagedTimeline, type TimelineKind } from "../lib/timeline";
import { type Titles, titleIn } from "../lib/titles";
import { ErrorMessage, useTagInfo } from "./common";

export function When({ at }: { at: string }) {
  const { lang } = useI18n();
  if (!at) return null;
  return <time dateTime={at} title={formatDateTime(at, lang)} className="muted">{formatRelative(at, lang)}</time>;
}

function actorOf(e: TimelineEvent, titles: Titles): string {
  if (e.actor && typeof e.actor === "object") return e.actor.display_name || e.actor.username || "";
  if (typeof e.actor === "string") return e.actor;
  return titleIn(titles, "user", e.actor_id) ?? "";
}

interface Props {
  events: TimelineEvent[];
  activities: RecordData[];
  fields: Map<string, FieldInfo>;
  activityDetail: ObjectDetail | null;
  titles: Titles;
  /** Cursors of the next pages (null or absent: everything is loaded). */
  eventsCursor?: string | null;
  activitiesCursor?: string | null;
  /** Load the next pages ("show more"). */
  onMore?: () => Promise<void>;
}

export function Timeline({ events, activities, fields, activityDetail, titles, eventsCursor = null, activitiesCursor = null,
  onMore }: Props) {
  const { t, label, lang, tx } = useI18n();
  const tagInfo = useTagInfo();
  const [kind, setKind] = useState<TimelineKind>("all");
  const [segments, setSegments] = useState<Record<string, Label | undefined>>({});
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const hasSegments = events.some((e) => "segment" in (e.changes?.after ?? {}) || "segment" in (e.changes?.before ?? {}));
  useEffect(() => {
    if (!hasSegments) return;
    let live = true;
    api.segments().then((all) => { if (live) setSegments(Object.fromEntries(all.map((s) => [s.name, s.label]))); }, () => undefined);
    return () => { live = false; };
  }, [hasSegments]);
  const { entries, more } = pagedTimeline({ items: events, cursor: eventsCursor }, { items: activities, cursor: activitiesCursor }, kind);
  async function showMore() {
    if (!onMore) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      await onMore();
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }
  const opts: FormatOptions = { lang, title: (target, id) => titleIn(titles, target, id) };
  const aFields = new Map((activityDetail?.fields ?? []).map((f) => [f.name, f]));
  const tagLabel = (v: unknown) => label(tagInfo[String(v)]?.label as Label | undefined, String(v));

  function value(name: string, v: unknown): string {
    if (v === null || v === undefined || v === "") return "";
    if (name === "owner_id") return titleIn(titles, "user", v) ?? (v == null ? "" : "#" + String(v));
    if (name === "segment") return label(segments[String(v)], String(v));
    if (name === "tag" || name === "tags") return Array.isArray(v) ? v.map(tagLabel).join(", ") : tagLabel(v);
    if (v && typeof v === "object" && "object" in (v as object)) {
      const ref = v as { object: string; id: number };
      return titleIn(titles, ref.object, ref.id) ?? `${ref.object} #${ref.id}`;
    }
    return formatValue(fields.get(name), v, label, opts);
  }

  return (
    <>
      <div className="row timeline-filter" role="group" aria-label={t("timeline.filter")}>
        {(["all", "activities", "changes"] as TimelineKind[]).map((k) => (
          <button key={k} type="button" className={kind === k ? "primary small" : "small"} aria-pressed={kind === k}
            onClick={() => setKind(k)}>{t(`timeline.${k}`)}</button>
        ))}
      </div>
      {!entries.length && <p className="muted">{t("record.no_events")}</p>}
      <ol className="timeline">
        {entries.map((entry) => {
          if (entry.kind === "activity") {
            const a = entry.activity;
            const type = formatValue(aFields.get("type"), a.type, label, opts);
            const owner = titleIn(titles, "user", a.owner_id);
            return (
              <li key={entry.key} className={`activity activity-${String(a.type ?? "")}`}>
                <div className="timeline-head">
                  <strong>{type}</strong>{" "}
                  <Link to={`/o/activity/${a.id}`}>{String(a.subject ?? "#" + a.id)}</Link>{" "}
                  <When at={entry.at} />
                  {owner && <span className="muted"> · {owner}</span>}
                  {a.type === "task" && (a.done ? <span className="muted"> · ✓</span> : null)}
                </div>
                {a.notes ? <p className="small">{String(a.notes)}</p> : null}
              </li>
            );
          }
          const e = entry.event;
          const before = e.changes?.before ?? {};
          const after = e.changes?.after ?? {};
          const who = actorOf(e, titles);
          return (
            <li key={entry.key}>
              <div className="timeline-head">
                <strong>{tx("event.", String(e.type ?? e.kind ?? e.action ?? ""))}</strong> <When at={entry.at} />
                {who && <span className="muted"> · {who}</span>}
              </div>
              <ul className="changes">
                {changedNames(e).map((n) => {
                  const f = fields.get(n);
                  const name = n === "owner_id" ? t("record.owner") : n === "tag" ? t("record.tags")
                    : n === "segment" ? t("timeline.segment")
                    : n === "to" ? t("convert.converted_to") : n === "from" ? t("convert.converted_from") : label(f?.label, n);
                  const old = value(n, before[n]);
                  const now = value(n, after[n]);
                  if (!old && !now) return null;  // empty before and after (an empty list)
                  return (
                    <li key={n}>
                      <span>{name}</span>: {old && <><del>{old}</del> → </>}<ins>{now}</ins>
                    </li>
                  );
                })}
              </ul>
            </li>
          );
        })}
      </ol>
      <ErrorMessage error={moreError} />
      {more && onMore && (
        <button type="button" className="timeline-more" disabled={loadingMore} onClick={() => void showMore()}>
          {t("timeline.more")}
        </button>
      )}
    </>
  );
}
