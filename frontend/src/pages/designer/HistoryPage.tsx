// Versions of one definition, and a line diff between any two of them.
import { useEffect, useState } from "react";
import { api } from "../../api/client";
import type { DefinitionVersion } from "../../api/types";
import { ErrorMessage, Loading, PageHeader, useLoad } from "../../components/common";
import { useI18n } from "../../i18n";
import { diffLines, stableJson } from "../../lib/diff";
import { formatWhen } from "../../lib/format";
import { Link } from "../../lib/router";

export function HistoryPage({ kind, name }: { kind: string; name: string }) {
  const { t, tx, lang } = useI18n();
  const versions = useLoad(() => api.versions(kind, name), [kind, name]);
  const [left, setLeft] = useState<number | null>(null);
  const [right, setRight] = useState<number | null>(null);
  const [bodies, setBodies] = useState<Record<number, unknown>>({});
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const list = versions.data ?? [];
    if (!list.length) return;
    const nums = list.map((v) => v.version).sort((a, b) => a - b);
    setRight(nums[nums.length - 1]);
    setLeft(nums.length > 1 ? nums[nums.length - 2] : nums[0]);
  }, [versions.data]);

  useEffect(() => {
    for (const n of [left, right]) {
      if (n === null || n in bodies) continue;
      const known = versions.data?.find((v) => v.version === n && v.body);
      if (known) setBodies((b) => ({ ...b, [n]: known.body }));
      else api.version(kind, name, n).then((v) => setBodies((b) => ({ ...b, [n]: v.body })), setError);
    }
  }, [left, right, bodies, kind, name, versions.data]);

  if (versions.error) return <ErrorMessage error={versions.error} />;
  if (!versions.data) return <Loading />;
  const list: DefinitionVersion[] = [...versions.data].sort((a, b) => b.version - a.version);
  const lines = left !== null && right !== null && bodies[left] !== undefined && bodies[right] !== undefined
    ? diffLines(left === right ? "" : stableJson(bodies[left]), stableJson(bodies[right])) : null;

  return (
    <div className="page">
      <PageHeader title={t("history.title", { kind, name })}>
        <Link to={`/designer/${kind}s/${name}`} className="button">{t("common.edit")}</Link>
      </PageHeader>
      <ErrorMessage error={error} />
      <div className="history">
        <table className="records">
          <thead>
            <tr>
              <th scope="col">{t("history.version")}</th>
              <th scope="col">{t("history.action")}</th>
              <th scope="col">{t("history.when")}</th>
              <th scope="col">{t("history.note")}</th>
              <th scope="col">{t("history.compare")}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>{tx("action.", v.action ?? "")}</td>
                <td>{formatWhen(v.created_at, lang)}</td>
                <td>{v.note ?? ""}</td>
                <td className="row">
                  <label className="inline"><input type="radio" name="left" checked={left === v.version} onChange={() => setLeft(v.version)} />{t("history.from")}</label>
                  <label className="inline"><input type="radio" name="right" checked={right === v.version} onChange={() => setRight(v.version)} />{t("history.to")}</label>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {lines ? (
          <pre className="diff" aria-label={t("history.diff")}>
            {lines.map((l, i) => (
              <div key={i} className={l.op === "+" ? "add" : l.op === "-" ? "del" : ""}>{l.op} {l.text}</div>
            ))}
          </pre>
        ) : <Loading />}
      </div>
    </div>
  );
}
