// "Delete" for a tag, segment or form in the designer: asks once more in place, then DELETE
// /definitions/<kind>/<name>; when something still uses it, the server's refusal lists each user.
import { useState } from "react";
import { request } from "../../api/client";
import { ErrorMessage } from "../../components/common";
import { useI18n } from "../../i18n";

export function DeleteDefinition({ kind, name, onDeleted }: { kind: string; name: string; onDeleted: () => void }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function remove() {
    setError(null);
    try {
      await request("DELETE", `/definitions/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`);
      setAsking(false);
      onDeleted();
    } catch (e) {
      setError(e);
      setAsking(false);
    }
  }

  return (
    <span className="delete-definition">
      {asking ? (
        <>
          <span>{t("adm.delete_sure", { name })}</span>{" "}
          <button type="button" className="danger" onClick={() => void remove()}>{t("adm.delete_yes")}</button>{" "}
          <button type="button" onClick={() => setAsking(false)}>{t("adm.delete_no")}</button>
        </>
      ) : (
        <button type="button" className="link" onClick={() => setAsking(true)}>{t("adm.delete")}</button>
      )}
      {error ? <><p>{t("adm.delete_used")}</p><ErrorMessage error={error} /></> : null}
    </span>
  );
}
