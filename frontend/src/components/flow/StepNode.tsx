// The one custom node of the builder: a step's kind and id, its exits as handles, its problems.
// Memoized (React Flow re-renders nodes on every drag frame otherwise) and registered once in
// nodeTypes.ts at module level, as React Flow's performance guide asks.
import { memo } from "react";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import type { NodeProblem } from "../../lib/workflowGraph";

export interface StepNodeData extends Record<string, unknown> {
  id: string;
  kind: string;
  title: string;
  /** Shown under the title instead of the id (the trigger node: its type). */
  caption?: string;
  exits: { handle: string; label: string }[];
  problems: NodeProblem[];
  status?: string;
}

export type StepFlowNode = Node<StepNodeData, "step">;

function StepNodeView({ data, selected }: NodeProps<StepFlowNode>) {
  const bad = data.problems.length > 0;
  const classes = ["flow-node", `flow-kind-${data.kind}`, bad ? "flow-node-bad" : "", selected ? "flow-node-selected" : "",
    data.status ? `flow-status-${data.status}` : ""].filter(Boolean).join(" ");
  return (
    <div className={classes} data-testid={`node-${data.id}`} data-node={data.id}>
      {data.kind !== "trigger" && <Handle type="target" position={Position.Top} />}
      <div className="flow-node-kind">{data.title}</div>
      <div className="flow-node-id">{data.caption ?? data.id}</div>
      {data.status && <div className="flow-node-status">{data.status}</div>}
      {bad && (
        <ul className="flow-node-problems" role="alert">
          {data.problems.map((p, i) => <li key={i} data-code={p.code}>{p.message}</li>)}
        </ul>
      )}
      {data.exits.length > 0 && (
        <div className="flow-node-exits">
          {data.exits.map((exit, i) => (
            <span key={exit.handle} className="flow-exit" style={{ left: `${((i + 1) * 100) / (data.exits.length + 1)}%` }}>
              {data.exits.length > 1 && <span className="flow-exit-label">{exit.label}</span>}
              <Handle id={exit.handle} type="source" position={Position.Bottom}
                style={{ left: `${((i + 1) * 100) / (data.exits.length + 1)}%` }} />
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

export const StepNode = memo(StepNodeView);
