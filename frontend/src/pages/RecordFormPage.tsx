// Create or edit a record through its form definition. Edits send only changed fields with the
// version read (If-Match); a stale version shows a conflict notice with a reload, never a
// silent overwrite.
import { useState } from "react";
import { api, ApiError } from "../api/client";
import type { ObjectDetail, RecordData } from "../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../components/common";
import { RecordForm } from "../components/RecordForm";
import { useI18n } from "../i18n";
import { buildForm, changedValues, chooseForm, cleanValues } from "../lib/formSchema";
import { useRouter } from "../lib/router";

export { chooseForm };

export function RecordFormPage({ object, id }: { object: string; id?: number }) {
  const { t, label, lang } = useI18n();
  const { navigate, search } = useRouter();
  const [stale, setStale] = useState(false);
  const [formKey, setFormKey] = useState(0);
  const loaded = useLoad(async () => {
    const detail = await api.object(object);
    const current = id ? await api.getRecord(object, id) : null;
    return { detail, current };
  }, [object, id, formKey]);

  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!loaded.data) return <Loading />;
  const { detail, current } = loaded.data;
  const form = chooseForm(detail, search.get("form"));
  const objectLabel = label(detail.label, detail.name);
  // Only what this form shows and lets the user change: a field left off the form (or shown
  // read-only) is absent from the submitted data and must not be sent as "cleared".
  const built = buildForm(detail, form, lang);
  const fieldNames = Object.keys(built.schema.properties as object).filter((n) => !built.readonly.includes(n));

  async function save(values: Record<string, unknown>) {
    if (!current) {
      const answers = cleanValues(values);
      const created: RecordData = form ? await api.submitForm(form.name, answers) : await api.createRecord(object, answers);
      navigate(`/o/${object}/${created.id}`);
      return;
    }
    const changes = changedValues(current.record, values, fieldNames);
    if (!Object.keys(changes).length) {
      navigate(`/o/${object}/${current.record.id}`);
      return;
    }
    try {
      await api.updateRecord(object, current.record.id, current.version ?? 0, changes);
    } catch (e) {
      if (e instanceof ApiError && e.isStale) setStale(true);
      throw e;
    }
    navigate(`/o/${object}/${current.record.id}`);
  }

  const title = current
    ? t("form.edit_title", { object: objectLabel, title: String(current.record[detail.title_field ?? "id"] ?? current.record.id) })
    : t("form.new_title", { object: objectLabel });

  return (
    <div className="page">
      <PageHeader title={title} />
      {form?.description && <p className="muted">{label(form.description)}</p>}
      <RecordForm
        key={`${formKey}:${current?.version ?? "new"}`}
        detail={detail}
        form={form}
        initial={current ? { ...current.record } : defaultsOf(detail)}
        submitLabel={current ? t("common.save") : t("form.create")}
        onSubmit={save}
        footer={stale ? (
          <div className="alert alert-warning" role="alert">
            <p>{t("form.stale")}</p>
            <button type="button" onClick={() => { setStale(false); setFormKey((k) => k + 1); }}>{t("form.reload")}</button>
          </div>
        ) : null}
      />
    </div>
  );
}

function defaultsOf(detail: ObjectDetail): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = (detail.schema?.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, d] of Object.entries(props)) if ("default" in d) out[name] = d.default;
  return out;
}
