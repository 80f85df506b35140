// Follow-up from the record page: log a call, a visit or a note, or create a task with a due date
// and a reminder, through the activity object's own form, linked to this record.
import { useState } from "react";
import { api } from "../api/client";
import type { ObjectDetail, RecordData } from "../api/types";
import { useI18n } from "../i18n";
import { tomorrowAt, userTimeZone } from "../lib/format";
import { chooseForm, cleanValues } from "../lib/formSchema";

import { RecordForm } from "./RecordForm";

export type ActivityKind = "call" | "visit" | "note" | "task";
export const ACTIVITY_KINDS: ActivityKind[] = ["call", "visit", "note", "task"];

/** The activity's relation field that points at `object` (e.g. activity.lead for a lead). */
export function activityLink(activity: ObjectDetail, object: string): string | null {
  return activity.fields.find((f) => f.type === "relation" && f.target === object)?.name ?? null;
}

/** What the form starts with: the kind, the link to this record, and a time (now for what happened,
 * tomorrow 09:00 on the user's clock for a task, its reminder an hour before). */
export function activityDefaults(kind: ActivityKind, link: string, id: number, now: Date = new Date(),
  timeZone: string = userTimeZone()): Record<string, unknown> {
  const out: Record<string, unknown> = { type: kind, [link]: id };
  if (kind === "task") {
    const due = tomorrowAt(9, now, timeZone);
    out.due_at = due.toISOString();
    out.remind_at = new Date(due.getTime() - 3600_000).toISOString();
    out.done = false;
  } else {
    out.due_at = new Date(Math.floor(now.getTime() / 60_000) * 60_000).toISOString();
    out.done = true;
  }
  return out;
}

interface Props {
  object: string;
  id: number;
  activity: ObjectDetail;
  onSaved: (created: RecordData) => void;
}

export function ActivityPanel({ object, id, activity, onSaved }: Props) {
  const { t } = useI18n();
  const [kind, setKind] = useState<ActivityKind | null>(null);
  const [saved, setSaved] = useState(false);
  const link = activityLink(activity, object);
  if (!link) return null;
  const form = chooseForm(activity, null);

  async function save(values: Record<string, unknown>) {
    const answers = cleanValues({ ...values, [link!]: id });
    const created = form ? await api.submitForm(form.name, answers) : await api.createRecord("activity", answers);
    setKind(null);
    setSaved(true);
    onSaved(created);
  }

  return (
    <section className="card activity-panel" aria-labelledby="activity-title">
      <h2 id="activity-title">{t("activity.title")}</h2>
      <div className="row">
        {ACTIVITY_KINDS.map((k) => (
          <button key={k} type="button" aria-pressed={kind === k} className={kind === k ? "primary" : undefined}
            onClick={() => { setSaved(false); setKind(kind === k ? null : k); }}>{t(`activity.${k}`)}</button>
        ))}
      </div>
      {saved && <p className="alert alert-ok" role="status">{t("activity.saved")}</p>}
      {kind && (
        <RecordForm key={kind} detail={activity} form={form} initial={activityDefaults(kind, link, id)}
          submitLabel={t("common.save")} onSubmit={save} />
      )}
    </section>
  );
}
