import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../api/client";
import { I18nProvider } from "../i18n";
import { Router } from "../lib/router";
import { XSS, leadDetail } from "../test/fixtures";
import { ListPage, withOwner } from "./ListPage";

vi.mock("../session", () => ({ useSession: () => ({ me: { id: 7, is_admin: true, permissions: {} }, objects: [] }) }));

vi.mock("../api/client", async (orig) => {
  const real = await orig<typeof import("../api/client")>();
  return {
    ...real,
    api: {
      object: vi.fn(), listRecords: vi.fn(), exportUrl: vi.fn(() => "/api/v1/exports/lead?format=csv"), definitions: vi.fn(async () => [{ name: "vip", label: { en: "VIP", zh: "贵宾" } }]), segments: vi.fn(), recordTags: vi.fn(), putDefinition: vi.fn(), bulkUpdate: vi.fn(),
    },
  };
});

vi.mock("../api/recordTools", () => ({
  fetchTitles: vi.fn(async () => ({ user: { "7": { title: "张伟", subtitle: null } } })),
  suggestTags: vi.fn(async () => [{ name: "vip", label: { en: "VIP customer", zh: "贵宾" } }]),
}));

const mocked = vi.mocked(api);

function renderList() {
  return render(<I18nProvider initial="en"><Router><ListPage object="lead" /></Router></I18nProvider>);
}

beforeEach(() => {
  vi.clearAllMocks();
  mocked.object.mockResolvedValue(leadDetail());
  mocked.segments.mockResolvedValue([]);
  mocked.recordTags.mockResolvedValue(["vip"]);
  mocked.putDefinition.mockResolvedValue({ changed: true, changes: [], problems: [] });
  mocked.listRecords.mockImplementation(async (_o, q) => ({
    items: q?.cursor ? [{ id: 1, name: "Older", city: "beijing", tags: [] }]
      : [{ id: 2, name: XSS, city: "shanghai", phone: "+8613800138000", owner_id: 7 }],
    next_cursor: q?.cursor ? null : "c1",
    count: q?.count ? 2 : undefined,
  }));
});

describe("ListPage", () => {
  it("lists records with option labels, tags and a count; values are text", async () => {
    const { container } = renderList();
    await screen.findByText(XSS);
    expect(container.querySelector("tbody img")).toBeNull();
    expect(screen.getByText("Shanghai")).toBeTruthy();
    await screen.findByText("VIP");
    expect(screen.getByText("2 records")).toBeTruthy();
    expect(mocked.listRecords).toHaveBeenCalledWith("lead", expect.objectContaining({ sort: "-id", limit: 50, cursor: null, count: true }));
  });

  it("pages with the cursor and sorts by a column", async () => {
    renderList();
    await screen.findByText(XSS);
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("Older");
    expect(mocked.listRecords).toHaveBeenLastCalledWith("lead", expect.objectContaining({ cursor: "c1", count: false }));
    fireEvent.click(screen.getByRole("button", { name: /^City/ }));
    await waitFor(() => expect(mocked.listRecords).toHaveBeenLastCalledWith("lead", expect.objectContaining({ sort: "city", cursor: null })));
  });

  it("filters with the rule builder and saves the rule as a segment", async () => {
    renderList();
    await screen.findByText(XSS);
    fireEvent.click(screen.getByRole("button", { name: "Filter" }));
    fireEvent.click(screen.getByRole("button", { name: "+ Condition" }));
    fireEvent.change(screen.getByLabelText("Field"), { target: { value: "city" } });
    fireEvent.change(screen.getByLabelText("Operator"), { target: { value: "in" } });
    const values = screen.getByRole("group", { name: "Value" });
    fireEvent.click(within(values).getByLabelText("Shanghai"));
    fireEvent.click(screen.getByRole("button", { name: "+ Tag" }));
    // the tag condition suggests tags by their label in the user's language
    await waitFor(() => expect(document.querySelector("#rule-tag-names option[value='vip']")?.textContent).toBe("VIP customer"));
    fireEvent.change(screen.getByLabelText("Tag name"), { target: { value: "vip" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filter" }));
    const rule = { all: [{ field: "city", op: "in", value: ["shanghai"] }, { op: "has_tag", value: "vip" }] };
    await waitFor(() => expect(mocked.listRecords).toHaveBeenLastCalledWith("lead", expect.objectContaining({ filter: rule })));
    fireEvent.change(screen.getByLabelText("Segment name"), { target: { value: "sh_vip" } });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Save as segment" })); });
    expect(mocked.putDefinition).toHaveBeenCalledWith("segment", "sh_vip", expect.objectContaining({ object: "lead", rule }));
    await screen.findByText("Segment saved.");
  }, 20_000);  // many clicks: slow on a loaded CI machine

  it("adds a tag to the selected records in bulk", async () => {
    mocked.bulkUpdate.mockResolvedValue(undefined);
    renderList();
    await screen.findByText(XSS);
    fireEvent.click(screen.getByLabelText("Select record 2"));
    fireEvent.change(screen.getByLabelText("Add tag"), { target: { value: "expo" } });
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Apply" })); });
    expect(mocked.bulkUpdate).toHaveBeenCalledWith("lead", [2], {}, ["expo"]);
  });

  it("shows the owner by name and filters to my records", async () => {
    renderList();
    await screen.findByText("张伟");
    fireEvent.change(screen.getByLabelText("Owner"), { target: { value: "mine" } });
    await waitFor(() => expect(mocked.listRecords).toHaveBeenLastCalledWith("lead", expect.objectContaining({
      filter: { field: "owner_id", op: "eq", value: 7 }, cursor: null })));
  });

  it("filters to one colleague's records with the owner picker", () => {
    expect(withOwner(null, "user:9", 7)).toEqual({ field: "owner_id", op: "eq", value: 9 });
    const rule = { field: "city", op: "eq", value: "shanghai" };
    expect(withOwner(rule, "mine", 7)).toEqual({ all: [rule, { field: "owner_id", op: "eq", value: 7 }] });
    expect(withOwner(rule, "anyone", 7)).toBe(rule);
  });
});
