import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { I18nProvider } from "../i18n";
import { Router } from "../lib/router";
import { leadDetail } from "../test/fixtures";
import { Timeline } from "./Timeline";

vi.mock("../api/client", async (orig) => {
  const real = await orig<typeof import("../api/client")>();
  return { ...real, api: {
    definitions: vi.fn(async () => [{ name: "vip", label: { en: "VIP", zh: "贵宾" } }]),
    segments: vi.fn(async () => [{ name: "hot_leads", object: "lead", label: { en: "Hot leads", zh: "高意向线索" } }]),
  } };
});

const detail = leadDetail();
const fields = new Map(detail.fields.map((f) => [f.name, f]));
const events = [
  { id: 1, kind: "update", at: "2026-12-03T06:06:18.961604Z", actor: { id: 2, username: "zhang.wei", display_name: "张伟" },
    changes: { before: { city: "shanghai", version: 1 }, after: { city: "beijing", version: 2 } } },
  { id: 2, kind: "tag_added", at: "2026-12-03T05:00:00Z", actor_id: 3, changes: { before: {}, after: { tag: "vip" } } },
  { id: 3, kind: "segment_entered", at: "2026-12-03T04:00:00Z", changes: { before: {}, after: { segment: "hot_leads", interests: [] } } },
];
const activities = [{ id: 9, type: "call", subject: "Called about the quote", due_at: "2026-12-03T07:00:00Z", owner_id: 3 }];
const titles = { user: { "3": { title: "李娜", subtitle: null } } };

function renderTimeline(lang: "en" | "zh") {
  return render(
    <I18nProvider initial={lang}><Router>
      <Timeline events={events} activities={activities} fields={fields} activityDetail={null} titles={titles} />
    </Router></I18nProvider>);
}

describe("Timeline", () => {
  it("shows labels, names and readable times, never keys or raw ISO text", async () => {
    const { container } = renderTimeline("zh");
    expect(screen.getByText("城市")).toBeTruthy();
    expect(screen.getByText("上海")).toBeTruthy();
    expect(screen.getByText("北京")).toBeTruthy();
    await screen.findByText("贵宾");  // the tag's label, not its name
    await screen.findByText("高意向线索");  // the segment's label
    expect(screen.queryByText("兴趣")).toBeNull();  // empty before and after: not shown
    expect(screen.getByText(/张伟/)).toBeTruthy();
    expect(screen.getAllByText(/李娜/).length).toBe(2);  // the tag's actor and the call's owner
    expect(container.textContent).not.toMatch(/\d{4}-\d\d-\d\dT/);
    expect(container.textContent).not.toContain("version");
    const time = container.querySelector("time")!;
    expect(time.getAttribute("title")).toContain("2026年12月3日");
  });

  it("merges activities newest first and filters by kind", () => {
    const { container } = renderTimeline("en");
    const heads = () => [...container.querySelectorAll(".timeline > li")].map((li) => li.className || "event");
    expect(heads()).toEqual(["activity activity-call", "event", "event", "event"]);
    fireEvent.click(screen.getByRole("button", { name: "Changes" }));
    expect(heads()).toEqual(["event", "event", "event"]);
    fireEvent.click(screen.getByRole("button", { name: "Activities" }));
    expect(screen.getByText("Called about the quote")).toBeTruthy();
    expect(heads()).toEqual(["activity activity-call"]);
  });

  it("shows more past the first page: older entries appear below, none out of order", async () => {
    const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({
      id: from - i, kind: "update", at: new Date(Date.UTC(2026, 11, 3, 12) - (60 - from + i) * 60_000).toISOString(),
      changes: { before: { city: "shanghai" }, after: { city: "beijing" } } }));
    const first = page(60, 50);  // ids 60..11, newest first
    const rest = page(10, 10);  // ids 10..1, older
    const call = { id: 99, type: "call", subject: "Old call", due_at: rest[5]!.at, owner_id: 3 };  // older than the first page
    function Paged() {
      const [events, setEvents] = useState(first);
      const [cursor, setCursor] = useState<string | null>("11");
      return <Timeline events={events} activities={[call]} fields={fields} activityDetail={null} titles={titles}
        eventsCursor={cursor} onMore={async () => { setEvents([...first, ...rest]); setCursor(null); }} />;
    }
    const { container } = render(<I18nProvider initial="en"><Router><Paged /></Router></I18nProvider>);
    const items = () => container.querySelectorAll(".timeline > li").length;
    expect(items()).toBe(50);
    expect(screen.queryByText("Old call")).toBeNull();  // older than what is loaded: held back, not shown out of order
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Show more" })); });
    await waitFor(() => expect(items()).toBe(61));
    expect(screen.getByText("Old call")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Show more" })).toBeNull();
    const times = [...container.querySelectorAll(".timeline > li time")].map((t) => Date.parse(t.getAttribute("datetime")!));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
