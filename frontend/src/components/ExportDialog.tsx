// Export of the list as shown (filter, columns, sort) as a background job (POST /exports/<object>):
// a progress bar from rows_done/rows_total, polled each second, and a download link when done.
import { useEffect, useState } from "react";
import { shellApi, type ExportJob } from "../api/shell";
import type { Rule } from "../api/types";
import { useI18n } from "../i18n";
import { SHELL_TEXT, fill } from "../lib/shellText";
import { ErrorMessage } from "./common";

export const POLL_EXPORT_MS = 1000;

export function ExportDialog({ object, rule, columns, sort }: { object: string; rule: Rule | null; columns: string[]; sort: string }) {
  const { label, lang } = useI18n();
  const [job, setJob] = useState<ExportJob | null>(null);
  const [error, setError] = useState<unknown>(null);

  const running = job !== null && (job.status === "pending" || job.status === "running");
  useEffect(() => {
    if (!running || !job) return;
    const timer = window.setTimeout(() => {
      shellApi.exportJob(job.id).then(setJob, setError);
    }, POLL_EXPORT_MS);
    return () => window.clearTimeout(timer);
  }, [running, job]);

  const start = async (format: "csv" | "xlsx") => {
    setError(null);
    setJob(null);
    try {
      setJob(await shellApi.startExport(object, { format, rule, columns, sort: sort || null, language: lang }));
    } catch (e) {
      setError(e);
    }
  };

  const total = job?.rows_total ?? null;
  const done = job?.rows_done ?? 0;
  return (
    <details className="dropdown export-menu">
      <summary>{label(SHELL_TEXT.export)}</summary>
      <div className="dropdown-body" aria-live="polite">
        <div className="row">
          <button type="button" disabled={running} onClick={() => void start("xlsx")}>{fill(label(SHELL_TEXT.exportStart), { format: "Excel" })}</button>
          <button type="button" disabled={running} onClick={() => void start("csv")}>{fill(label(SHELL_TEXT.exportStart), { format: "CSV" })}</button>
        </div>
        {running && (
          <>
            <progress max={total ?? undefined} value={total ? done : undefined} aria-label={label(SHELL_TEXT.export)} />
            <p className="small">{total === null ? label(SHELL_TEXT.exportPending) : fill(label(SHELL_TEXT.exportRunning), { done, total })}</p>
          </>
        )}
        {job?.status === "done" && (
          <p>
            {fill(label(SHELL_TEXT.exportDone), { n: done })}{" "}
            <a className="button primary" href={shellApi.exportFileUrl(job.id)} download>{label(SHELL_TEXT.download)}</a>
          </p>
        )}
        {job?.status === "failed" && <p className="alert alert-error" role="alert">{label(SHELL_TEXT.exportFailed)}</p>}
        <ErrorMessage error={error} />
      </div>
    </details>
  );
}
