// The bell in the top bar: the unread count (polled every minute while the tab is visible, and
// when it becomes visible again), the latest notifications, mark one or all read, a link to the
// record a notification is about.
import { useCallback, useEffect, useRef, useState } from "react";
import { shellApi, type Notification } from "../api/shell";
import { useI18n } from "../i18n";
import { Link } from "../lib/router";
import { SHELL_TEXT, fill } from "../lib/shellText";
import { formatDateTime, formatRelative } from "../lib/format";

export const POLL_MS = 60_000;

export function NotificationBell() {
  const { label, lang } = useI18n();
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);

  const load = useCallback(async () => {
    try {
      const page = await shellApi.notifications(20);
      setItems(page.items ?? []);
      setUnread(page.unread ?? 0);
    } catch {
      /* the count stays as it was; the next poll tries again */
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => { if (document.visibilityState !== "hidden") void load(); }, POLL_MS);
    const onVisible = () => { if (document.visibilityState === "visible") void load(); };
    document.addEventListener("visibilitychange", onVisible);
    return () => { window.clearInterval(timer); document.removeEventListener("visibilitychange", onVisible); };
  }, [load]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => { if (box.current && !box.current.contains(e.target as Node)) setOpen(false); };
    const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") setOpen(false); };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => { document.removeEventListener("mousedown", onDown); document.removeEventListener("keydown", onKey); };
  }, [open]);

  const markRead = async (n: Notification) => {
    if (n.read_at) return;
    await shellApi.markRead(n.id);
    await load();
  };
  const markAll = async () => {
    await shellApi.markAllRead();
    await load();
  };

  const title = label(SHELL_TEXT.notifications);
  return (
    <div className="bell" ref={box}>
      <button type="button" className="bell-button" aria-haspopup="true" aria-expanded={open}
        aria-label={unread ? `${title}: ${fill(label(SHELL_TEXT.unread), { n: unread })}` : title}
        onClick={() => { setOpen(!open); if (!open) void load(); }}>
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2"
          strokeLinecap="round" strokeLinejoin="round"><path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" /><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" /></svg>
        {unread > 0 && <span className="bell-count" data-testid="unread-count">{unread > 99 ? "99+" : unread}</span>}
      </button>
      {open && (
        <section className="bell-panel" role="region" aria-label={title}>
          <div className="bell-head">
            <strong>{title}</strong>
            {unread > 0 && <button type="button" className="link" onClick={() => void markAll()}>{label(SHELL_TEXT.markAllRead)}</button>}
          </div>
          {!items.length && <p className="muted">{label(SHELL_TEXT.noNotifications)}</p>}
          <ul className="bell-list">
            {items.map((n) => (
              <li key={n.id} className={n.read_at ? "read" : "unread"} data-id={n.id}>
                <div>
                  {n.object && n.record_id
                    ? <Link to={`/o/${encodeURIComponent(n.object)}/${n.record_id}`} onClick={() => { setOpen(false); void markRead(n); }}>{n.title}</Link>
                    : <span>{n.title}</span>}
                </div>
                {n.body && <div className="small">{n.body}</div>}
                <div className="small muted">
                  <time dateTime={n.created_at} title={formatDateTime(n.created_at, lang)}>
                    {formatRelative(n.created_at, lang)}
                  </time>
                  {!n.read_at && <> · <button type="button" className="link" onClick={() => void markRead(n)}>{label(SHELL_TEXT.markRead)}</button></>}
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
