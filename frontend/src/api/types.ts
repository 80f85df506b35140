// Shapes of the HTTP API (/api/v1) as fixed in the shared contract. One place for them, so a
// change of the contract is a change here and the compiler finds every user.

/** A label is either a plain string or {language: text}. */
export type Label = string | Record<string, string>;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ObjectPermission {
  read: boolean;
  create: boolean;
  update: boolean;
  delete: boolean;
  scope?: string;
  hidden_fields?: string[];
  readonly_fields?: string[];
}

export interface Me {
  id: number;
  username: string;
  display_name: string;
  language: string;
  /** The user's IANA zone; null: the browser's (server texts: default_time_zone). */
  time_zone?: string | null;
  /** The installation's zone (METACRM_TIMEZONE): server texts for users without a zone of their own. */
  default_time_zone?: string;
  is_admin: boolean;
  roles: string[];
  csrf_token: string;
  permissions: Record<string, ObjectPermission>;
}

export interface UserSummary {
  id: number;
  username: string;
  display_name: string;
}

export interface ObjectSummary {
  name: string;
  label: Label;
  plural_label?: Label;
  title_field?: string | null;
}

export interface FieldInfo {
  name: string;
  type: string;
  label: Label;
  required?: boolean;
  unique?: boolean;
  options?: string[] | null;
  option_labels?: Record<string, Label> | null;
  target?: string | null;
  readonly?: boolean;
  widget?: string;
  operators?: string[];
  help?: Label | null;
}

export type FormFieldEntry =
  | string
  | {
      field: string;
      widget?: string;
      help?: Label;
      placeholder?: Label;
      readonly?: boolean;
      option_tags?: Record<string, string[]>;
    };

export interface FormSection {
  key?: string;
  label?: Label;
  columns?: number;
  collapsed?: boolean;
  fields: FormFieldEntry[];
}

export interface FormDoc {
  name: string;
  object: string;
  label?: Label;
  description?: Label;
  default?: boolean;
  sections: FormSection[];
}

export interface ObjectDetail extends ObjectSummary {
  schema: Record<string, unknown>;
  fields: FieldInfo[];
  forms: FormDoc[];
  default_form?: string | null;
}

export interface RecordData {
  id: number;
  version?: number;
  created_at?: string;
  updated_at?: string;
  owner_id?: number | null;
  created_by?: number | null;
  tags?: string[];
  [field: string]: unknown;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
  count?: number;
}

export interface TimelineEvent {
  id?: number;
  type?: string;
  kind?: string;
  action?: string;
  at?: string;
  created_at?: string;
  actor_id?: number | null;
  actor?: string | { id?: number; username?: string; display_name?: string } | null;
  changes?: { before?: Record<string, unknown>; after?: Record<string, unknown> } | null;
  [key: string]: unknown;
}

// --- the rep's workspace (issue 13 contract) ---

export interface HomeTask {
  id: number;
  title: string;
  due_at: string | null;
  record: { object: string; id: number; title: string } | null;
}

export interface HomeData {
  leads_due: { id: number; title: string; subtitle: string | null; due_at: string | null }[];
  opportunities_by_stage: { stage: string; label: Label; count: number; amount: string | null }[];
  tasks: { overdue: HomeTask[]; today: HomeTask[] };
  unread_notifications: number;
}

export interface ProblemItem {
  field: string;
  code: string;
  message: string;
}

export interface PlanChange {
  kind: string;
  name: string;
  action: string;
  diff: string[];
  table: string[];
}

export interface Plan {
  changed: boolean;
  changes: PlanChange[];
  problems: ProblemItem[];
}

export interface DefinitionVersion {
  version: number;
  action?: string;
  created_at?: string;
  created_by?: number | null;
  note?: string | null;
  body?: Record<string, unknown>;
  checksum?: string;
}

export interface SegmentSummary {
  name: string;
  object: string;
  label?: Label;
  rule?: Rule;
  count?: number;
}

export interface TagDoc {
  name: string;
  label?: Label;
  group?: string;
  color?: string;
  rule?: Rule;
  object?: string;
  [key: string]: unknown;
}

// --- the rule language (shared contract) ---------------------------------------------------

export interface FieldRule {
  field: string;
  op: string;
  value?: unknown;
}

export interface TagRule {
  op: "has_tag" | "not_has_tag";
  value: string;
}

export interface RelatedRule {
  related: { object: string; via: string };
  agg: "exists" | "count" | "sum" | "max" | "min";
  field?: string;
  op?: string;
  value?: unknown;
  where?: Rule;
}

export type Rule =
  | { all: Rule[] }
  | { any: Rule[] }
  | { not: Rule }
  | FieldRule
  | TagRule
  | RelatedRule;

export interface ListQuery {
  filter?: Rule | null;
  sort?: string;
  fields?: string[];
  limit?: number;
  cursor?: string | null;
  count?: boolean;
}
