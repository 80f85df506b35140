// Lead conversion: shows what converting creates (the conversion's targets and which fields they
// copy), lets the optional targets be chosen, converts, then links to the new records.
import { useState } from "react";
import { convert, type ConversionInfo } from "../api/recordTools";
import type { FieldInfo } from "../api/types";
import { useI18n } from "../i18n";
import { Link } from "../lib/router";
import { ErrorMessage } from "./common";

export function initialChoices(info: ConversionInfo): Record<string, boolean> {
  return Object.fromEntries(info.targets.map((t) => [t.key, t.optional ? t.default : true]));
}

interface Props {
  object: string;
  id: number;
  title: string;
  info: ConversionInfo;
  sourceFields: Map<string, FieldInfo>;
  onClose: () => void;
  onDone: () => void;
}

export function ConvertDialog({ object, id, title, info, sourceFields, onClose, onDone }: Props) {
  const { t, label } = useI18n();
  const [choices, setChoices] = useState(() => initialChoices(info));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Record<string, number | null> | null>(null);

  async function run() {
    setBusy(true);
    setError(null);
    try {
      const body = Object.fromEntries(info.targets.filter((t) => t.optional).map((t) => [t.key, choices[t.key]]));
      setCreated(await convert(object, id, body));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="dialog-backdrop">
      <div className="card dialog" role="dialog" aria-modal="true" aria-labelledby="convert-title">
        <h2 id="convert-title">{t("convert.title", { title })}</h2>
        {info.description && <p className="muted">{label(info.description)}</p>}
        {!created ? (
          <>
            <p>{t("convert.will_create")}</p>
            <ul className="convert-targets">
              {info.targets.map((target) => {
                const copies = Object.values(target.fields).map((src) => label(sourceFields.get(src)?.label, src));
                return (
                  <li key={target.key}>
                    <label className="inline">
                      <input type="checkbox" checked={choices[target.key]} disabled={!target.optional}
                        onChange={(e) => setChoices({ ...choices, [target.key]: e.target.checked })} />
                      <strong>{label(target.label, target.key)}</strong>
                    </label>
                    {copies.length > 0 && <span className="muted small"> — {t("convert.copies", { fields: copies.join(", ") })}</span>}
                  </li>
                );
              })}
            </ul>
            <ErrorMessage error={error} />
            <div className="row">
              <button type="button" className="primary" disabled={busy} onClick={() => void run()}>{t("convert.confirm")}</button>
              <button type="button" onClick={onClose}>{t("common.cancel")}</button>
            </div>
          </>
        ) : (
          <>
            <p className="alert alert-ok" role="status">{t("convert.done")}</p>
            <ul>
              {info.targets.filter((target) => created[target.key]).map((target) => (
                <li key={target.key}>
                  <Link to={`/o/${target.object}/${created[target.key]}`} className="button">
                    {t("convert.open", { object: label(target.label, target.key) })}
                  </Link>
                </li>
              ))}
            </ul>
            <button type="button" onClick={onClose}>{t("convert.close")}</button>
          </>
        )}
      </div>
    </div>
  );
}
