// Test data shared by the builder and debugger tests: the step registry and the walkthrough's workflow.
import type { StepTypeInfo, TriggerInfo } from "../../api/workflows";
import type { WorkflowDoc } from "../../lib/workflowGraph";

export const STEPS: StepTypeInfo[] = [
  { name: "branch", label: { en: "Branch (if)", zh: "分支" }, kind: "if", schema: { type: "object", properties: { rule: { type: "object" } } } },
  { name: "wait", label: { en: "Wait", zh: "等待" }, kind: "wait", schema: { type: "object", properties: {
    duration: { type: "object", properties: { amount: { type: "integer" }, unit: { enum: ["minute", "hour", "day"] } } } } } },
  { name: "send_message", label: { en: "Send message", zh: "发送消息" }, kind: "action", side_effects: true,
    schema: { type: "object", properties: { channel: { enum: ["email", "sms"] }, body: { type: "string", title: "Body" } } } },
  { name: "end", label: { en: "End", zh: "结束" }, kind: "end", schema: { type: "object" } },
];

export function leadFlow(): WorkflowDoc {
  return {
    name: "lead_flow", object: "lead", trigger: { type: "record_created" },
    steps: [
      { id: "hot", type: "branch", rule: { field: "score", op: "gt", value: 50 }, then: "email", else: "wait", ui: { x: 0, y: 0 } },
      { id: "wait", type: "wait", duration: { amount: 2, unit: "day" }, next: "email", ui: { x: 200, y: 120 } },
      { id: "email", type: "send_message", channel: "email", body: "Hello", ui: { x: 0, y: 240 } },
    ],
  };
}

/** GET /workflow-triggers as the server answers it (the trigger schema of meta_schemas/workflow.json; the rule
 * definition is a stand-in). */
export const TRIGGER: TriggerInfo = {
  node: "trigger", kind: "trigger", exit: "start",
  types: ["record_created", "record_updated", "segment_entered", "segment_left", "form_submitted", "tag_added", "tag_removed", "schedule", "manual", "meets_criteria", "record_deleted", "webhook"],
  schema: {
    type: "object", required: ["type"], additionalProperties: false,
    properties: {
      type: {"enum": ["record_created", "record_updated", "segment_entered", "segment_left", "form_submitted", "tag_added", "tag_removed", "schedule", "manual", "meets_criteria", "record_deleted", "webhook"]},
      when: {"$ref": "#/$defs/rule", "description": "Start only when this rule holds for the record."},
      fields: {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": true},
      becomes: {"$ref": "#/$defs/rule"},
      segment: {"$ref": "#/$defs/identifier"},
      form: {"$ref": "#/$defs/identifier"},
      tag: {"type": "string", "minLength": 1, "maxLength": 64},
      cron: {"type": "string", "minLength": 9, "maxLength": 100},
      timezone: {"type": "string", "minLength": 1, "maxLength": 64},
      rule: {"$ref": "#/$defs/rule"},
    },
    allOf: [
      {"if": {"properties": {"type": {"const": "record_updated"}}}, "else": {"not": {"anyOf": [{"required": ["fields"]}, {"required": ["becomes"]}]}}},
      {"if": {"properties": {"type": {"enum": ["segment_entered", "segment_left"]}}}, "then": {"required": ["segment"]}},
      {"if": {"properties": {"type": {"enum": ["record_created", "record_updated", "form_submitted", "tag_added", "tag_removed", "manual", "meets_criteria", "record_deleted", "webhook"]}}}, "then": {"not": {"required": ["segment"]}}},
      {"if": {"properties": {"type": {"enum": ["tag_added", "tag_removed"]}}}, "then": {"required": ["tag"]}, "else": {"not": {"required": ["tag"]}}},
      {"if": {"properties": {"type": {"const": "schedule"}}}, "then": {"required": ["cron"]}, "else": {"not": {"anyOf": [{"required": ["cron"]}, {"required": ["timezone"]}, {"required": ["rule"]}]}}},
      {"if": {"properties": {"type": {"const": "form_submitted"}}}, "else": {"not": {"required": ["form"]}}},
    ],
    $defs: {"rule": {"type": "object"}, "identifier": {"description": "A name that becomes part of SQL: lowercase letters, digits, underscores; starts with a letter; at most 48 characters; no reserved words.", "type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$"}},
  },
  enrollment: {"type": "object", "additionalProperties": false, "properties": {"reenroll": {"enum": ["never", "after_end", "always"], "description": "never: once per record ever; after_end: not while the record has an open run (default for record triggers); always: every trigger."}, "time_driven": {"type": "boolean", "description": "Also start when time alone moves a record into the trigger's tracked segment or automatic tag (the nightly pass)."}}},
  goal: {"$ref": "#/$defs/rule", "description": "Checked on every write of the record and before every step: when it holds, the run exits as goal_reached."},
};
