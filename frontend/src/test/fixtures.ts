// Test data in the shapes of the HTTP API contract.
import type { ObjectDetail } from "../api/types";

export const XSS = "<img src=x onerror=alert(1)>";

export function leadDetail(overrides: Partial<ObjectDetail> = {}): ObjectDetail {
  return {
    name: "lead",
    label: { en: "Lead", zh: "线索" },
    plural_label: { en: "Leads", zh: "线索" },
    title_field: "name",
    schema: {
      type: "object",
      properties: {
        name: { "x-field": "text", maxLength: 100 },
        phone: { "x-field": "phone" },
        city: { "x-field": "select", enum: ["shanghai", "beijing"] },
        score: { "x-field": "integer", minimum: 0, maximum: 100 },
        interests: { "x-field": "multiselect", items: { type: "string", enum: ["travel", "food"] } },
      },
      required: ["name"],
    },
    fields: [
      { name: "name", type: "text", label: { en: "Name", zh: "姓名" }, required: true, operators: ["eq", "contains", "is_empty"] },
      { name: "phone", type: "phone", label: { en: "Mobile", zh: "手机号" } },
      { name: "city", type: "select", label: { en: "City", zh: "城市" }, options: ["shanghai", "beijing"],
        option_labels: { shanghai: { en: "Shanghai", zh: "上海" }, beijing: { en: "Beijing", zh: "北京" } },
        operators: ["eq", "ne", "in", "not_in", "is_empty", "is_not_empty"] },
      { name: "score", type: "integer", label: { en: "Score", zh: "评分" }, operators: ["eq", "gt", "between"] },
      { name: "interests", type: "multiselect", label: { en: "Interests", zh: "兴趣" }, options: ["travel", "food"],
        operators: ["has_any", "has_all"] },
    ],
    forms: [{
      name: "lead_default", object: "lead", default: true,
      sections: [
        { key: "basics", label: { en: "Basics", zh: "基本信息" }, columns: 2, fields: ["name", { field: "city", option_tags: { shanghai: ["sh"] } }] },
        { key: "contact", label: { en: "Contact", zh: "联系方式" }, fields: [{ field: "phone", help: { en: "Mobile number", zh: "手机号码" } }, "score"] },
      ],
    }],
    default_form: "lead_default",
    ...overrides,
  };
}

/** A lead as the demo has it: optional fields of every type, a collapsed "Conversion" section
 * holding a read-only relation and a free-text field. */
export function demoLeadDetail(): ObjectDetail {
  const base = leadDetail();
  const props = base.schema.properties as Record<string, unknown>;
  Object.assign(props, {
    email: { "x-field": "email" },
    budget: { "x-field": "decimal" },
    next_follow_up: { "x-field": "date" },
    captured_at: { "x-field": "datetime" },
    consent: { "x-field": "boolean" },
    converted_customer: { "x-field": "relation", "x-target": "customer" },
    notes: { "x-field": "textarea", maxLength: 10 },
  });
  base.fields.push(
    { name: "email", type: "email", label: { en: "Email" } },
    { name: "budget", type: "decimal", label: { en: "Budget" } },
    { name: "next_follow_up", type: "date", label: { en: "Next follow-up" } },
    { name: "captured_at", type: "datetime", label: { en: "Captured at" } },
    { name: "consent", type: "boolean", label: { en: "Consent" } },
    { name: "converted_customer", type: "relation", target: "customer", label: { en: "Converted to customer" } },
    { name: "notes", type: "textarea", label: { en: "Notes" } },
  );
  base.forms[0].sections.push(
    { key: "more", label: { en: "More" }, fields: ["email", "budget", "next_follow_up", "captured_at", "consent", "interests"] },
    { key: "conversion", label: { en: "Conversion" }, collapsed: true,
      fields: [{ field: "converted_customer", readonly: true }, "notes"] },
  );
  return base;
}

/** A demo lead record with every optional field empty, as the API sends it. */
export function emptyLead(): Record<string, unknown> {
  return { id: 7, name: "Ethan Baker", phone: null, city: null, score: null, interests: [], email: null, budget: null,
    next_follow_up: null, captured_at: null, consent: null, converted_customer: null, notes: null,
    created_at: "2026-12-02T19:08:34.394760Z", version: 1, owner_id: 3, tags: [] };
}
