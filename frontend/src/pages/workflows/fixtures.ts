// Test data shared by the builder and debugger tests: the step registry and the walkthrough's workflow.
import type { StepTypeInfo } from "../../api/workflows";
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

