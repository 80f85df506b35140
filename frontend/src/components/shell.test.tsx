import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { shellApi } from "../api/shell";
import { I18nProvider, type Language } from "../i18n";
import { Router } from "../lib/router";
import { GlobalSearch } from "./GlobalSearch";
import { NotificationBell } from "./NotificationBell";

vi.mock("../api/shell", () => ({
  shellApi: { search: vi.fn(), notifications: vi.fn(), markRead: vi.fn(), markAllRead: vi.fn() },
}));
const api = vi.mocked(shellApi);

function wrap(node: React.ReactNode, lang: Language = "en") {
  return render(<I18nProvider initial={lang}><Router>{node}</Router></I18nProvider>);
}

const note = (id: number, read: boolean) => ({ id, title: `Lead ${id} assigned`, body: "", object: "lead", record_id: id,
  created_at: "2026-12-03T05:00:00Z", read_at: read ? "2026-12-03T05:01:00Z" : null });

beforeEach(() => {
  vi.clearAllMocks();
  window.history.replaceState(null, "", "/");
});

describe("GlobalSearch", () => {
  it("shows hits grouped by object and opens the one chosen with the arrows and Enter", async () => {
    api.search.mockResolvedValue([
      { object: "lead", label: { en: "Leads", zh: "线索" }, items: [{ id: 3, title: "Wang Lei", subtitle: "+86 138" }] },
      { object: "account", label: { en: "Accounts", zh: "客户" }, items: [{ id: 4, title: "<b>Wanda</b>" }] },
    ]);
    wrap(<GlobalSearch />, "zh");
    const box = screen.getByRole("combobox", { name: "搜索" });
    fireEvent.change(box, { target: { value: "8000" } });
    await screen.findByRole("group", { name: "客户" });
    expect(api.search).toHaveBeenCalledWith("8000");
    expect(screen.getByRole("group", { name: "线索" })).toBeTruthy();
    expect(screen.getByText("<b>Wanda</b>")).toBeTruthy();  // a title is text, never markup
    fireEvent.keyDown(box, { key: "ArrowDown" });
    fireEvent.keyDown(box, { key: "ArrowDown" });
    expect(screen.getAllByRole("option")[1].getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(box, { key: "Enter" });
    expect(window.location.pathname).toBe("/o/account/4");
  });

  it("says when nothing matches", async () => {
    api.search.mockResolvedValue([]);
    wrap(<GlobalSearch />);
    fireEvent.change(screen.getByRole("combobox", { name: "Search" }), { target: { value: "zzzz" } });
    await screen.findByText("No matches.");
  });
});

describe("NotificationBell", () => {
  it("shows the unread count, marks one read, then all, and links to the record", async () => {
    api.notifications.mockResolvedValueOnce({ items: [note(2, false), note(1, false)], unread: 2 })
      .mockResolvedValueOnce({ items: [note(2, false), note(1, false)], unread: 2 })
      .mockResolvedValueOnce({ items: [note(2, false), note(1, true)], unread: 1 })
      .mockResolvedValue({ items: [note(2, true), note(1, true)], unread: 0 });
    api.markRead.mockResolvedValue();
    api.markAllRead.mockResolvedValue();
    wrap(<NotificationBell />);
    expect((await screen.findByTestId("unread-count")).textContent).toBe("2");
    fireEvent.click(screen.getByRole("button", { name: /Notifications: 2 unread/ }));
    const panel = await screen.findByRole("region", { name: "Notifications" });
    expect(panel.querySelector("a[href='/o/lead/1']")?.textContent).toBe("Lead 1 assigned");
    fireEvent.click(screen.getAllByRole("button", { name: "Mark read" })[1]);
    await waitFor(() => expect(screen.getByTestId("unread-count").textContent).toBe("1"));
    expect(api.markRead).toHaveBeenCalledWith(1);
    fireEvent.click(screen.getByRole("button", { name: "Mark all read" }));
    await waitFor(() => expect(screen.queryByTestId("unread-count")).toBeNull());
    expect(api.markAllRead).toHaveBeenCalledOnce();
  });
});

describe("ViewsMenu", () => {
  it("lists the built-in, my own and shared lists with their owner, applies one, saves the current list", async () => {
    const { ViewsMenu } = await import("./ViewsMenu");
    const extra = shellApi as unknown as Record<string, ReturnType<typeof vi.fn>>;
    extra.views = vi.fn().mockResolvedValue([
      { id: "mine:lead", object: "lead", name: "My leads", columns: null, sort: "-created_at",
        filter: { field: "owner_id", op: "eq", value: 7 }, mine: true, builtin: true, owner: null },
      { id: 5, object: "lead", name: "Team hot", columns: ["name"], sort: "-score", filter: null, mine: false, builtin: false,
        owner: { id: 2, name: "Li Na" } },
    ]);
    extra.createView = vi.fn().mockResolvedValue({ id: 9 });
    const onApply = vi.fn();
    wrap(<ViewsMenu object="lead" current={{ columns: ["name", "city"], sort: "name", rule: null }} onApply={onApply} />);
    const select = await screen.findByLabelText("Saved lists");
    await screen.findByRole("option", { name: "Team hot (shared by Li Na)" });
    fireEvent.change(select, { target: { value: "5" } });
    expect(onApply).toHaveBeenCalledWith({ name: "Team hot", columns: ["name"], sort: "-score", rule: null });
    fireEvent.change(screen.getByLabelText("List title"), { target: { value: "Mine by name" } });
    fireEvent.click(screen.getByRole("button", { name: "Save this list" }));
    await screen.findByText("List saved.");
    expect(extra.createView).toHaveBeenCalledWith({ object: "lead", name: "Mine by name", columns: ["name", "city"], sort: "name", filter: null });
  });
  it("lets an administrator share a list with teams and roles (a rep sees no such boxes)", async () => {
    const { ViewsMenu } = await import("./ViewsMenu");
    const extra = shellApi as unknown as Record<string, ReturnType<typeof vi.fn>>;
    extra.views = vi.fn().mockResolvedValue([]);
    extra.createView = vi.fn().mockResolvedValue({ id: 10 });
    const { unmount } = wrap(<ViewsMenu object="lead" current={{ columns: ["name"], sort: "", rule: null }} onApply={vi.fn()} />);
    await screen.findByLabelText("Saved lists");
    expect(screen.queryByLabelText(/Share with teams/)).toBeNull();
    unmount();
    wrap(<ViewsMenu object="lead" current={{ columns: ["name"], sort: "", rule: null }} onApply={vi.fn()} canShare />);
    fireEvent.change(await screen.findByLabelText(/Share with teams/), { target: { value: "east_sales, west_sales" } });
    fireEvent.change(screen.getByLabelText(/Share with roles/), { target: { value: "sales_rep" } });
    fireEvent.change(screen.getByLabelText("List title"), { target: { value: "East hot" } });
    fireEvent.click(screen.getByRole("button", { name: "Save this list" }));
    await screen.findByText("List saved.");
    expect(extra.createView).toHaveBeenCalledWith(expect.objectContaining({ name: "East hot",
      shared: { teams: ["east_sales", "west_sales"], roles: ["sales_rep"] } }));
  });
});

describe("ExportDialog", () => {
  it("starts a background export of the list as shown, shows progress, then the download link", async () => {
    const { ExportDialog } = await import("./ExportDialog");
    const extra = shellApi as unknown as Record<string, ReturnType<typeof vi.fn>>;
    extra.startExport = vi.fn().mockResolvedValue({ id: 4, status: "running", rows_done: 1000, rows_total: 4000 });
    extra.exportJob = vi.fn().mockResolvedValue({ id: 4, status: "done", rows_done: 4000, rows_total: 4000 });
    extra.exportFileUrl = vi.fn().mockReturnValue("/api/v1/export-jobs/4/file");
    const rule = { field: "city", op: "eq", value: "shanghai" } as const;
    wrap(<ExportDialog object="lead" rule={rule} columns={["name"]} sort="-score" />, "zh");
    fireEvent.click(screen.getByRole("button", { name: "导出 CSV" }));
    await screen.findByText("正在导出：1000 / 4000 行");
    expect(extra.startExport).toHaveBeenCalledWith("lead", { format: "csv", rule, columns: ["name"], sort: "-score", language: "zh" });
    expect(screen.getByRole("progressbar")).toBeTruthy();
    const link = await screen.findByRole("link", { name: "下载" }, { timeout: 3000 });
    expect(link.getAttribute("href")).toBe("/api/v1/export-jobs/4/file");
    expect(screen.getByText(/导出完成：4000 行/)).toBeTruthy();
  });
});
