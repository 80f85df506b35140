// The graph of a workflow on a React Flow canvas. The definition is the source of truth; node
// positions live in local state while dragging (one commit per drag stop keeps 300-node graphs
// smooth), steps without a saved position get an elkjs layout. Read-only in the run debugger
// and at phone width.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background, Controls, ReactFlow, applyNodeChanges,
  type Connection, type Edge, type NodeChange, type OnSelectionChangeParams,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./flow.css";
import { useI18n } from "../../i18n";
import {
  TRIGGER_HANDLE, TRIGGER_NODE, edgesOf, exitsOf, kindOf, positionOf, problemsByNode, triggerEdge, triggerPosition,
  type NodeProblem, type WorkflowDoc,
} from "../../lib/workflowGraph";
import { layoutSteps } from "./layout";
import { nodeTypes } from "./nodeTypes";
import type { StepFlowNode } from "./StepNode";

interface Props {
  doc: WorkflowDoc;
  /** Draw the workflow's trigger as the first node (the builder; the run debugger leaves it out). */
  showTrigger?: boolean;
  /** The trigger node's title and caption (its type, in the user's language). */
  triggerTitle?: string;
  triggerCaption?: string;
  problems?: NodeProblem[];
  statuses?: Record<string, string>;
  titles?: Record<string, string>;
  readOnly?: boolean;
  onConnect?: (c: { source: string; sourceHandle: string; target: string }) => void;
  onReconnect?: (old: { source: string; sourceHandle: string }, c: { source: string; sourceHandle: string; target: string }) => void;
  onMoved?: (positions: Record<string, { x: number; y: number }>) => void;
  onSelect?: (ids: string[]) => void;
  onDelete?: (ids: string[]) => void;
  /** Called once the positions of every node are known (after an auto-layout). */
  onLayout?: (positions: Record<string, { x: number; y: number }>) => void;
}

/** The trigger node: first, above the start step, one exit (`start`); not deletable, not dragged
 * (its place follows the start step, so the definition needs no position for it). */
export function triggerNode(doc: WorkflowDoc, problems: NodeProblem[], title: string, caption: string,
  layout: Record<string, { x: number; y: number }>, selected = false): StepFlowNode {
  return {
    id: TRIGGER_NODE, type: "step", position: triggerPosition(doc, layout), selected, deletable: false, draggable: false,
    data: { id: TRIGGER_NODE, kind: "trigger", title, caption, problems,
      exits: doc.steps.length ? [{ handle: TRIGGER_HANDLE, label: TRIGGER_HANDLE }] : [] },
  };
}

export function buildNodes(doc: WorkflowDoc, problems: NodeProblem[], statuses: Record<string, string>, titles: Record<string, string>,
  previous: StepFlowNode[], layout: Record<string, { x: number; y: number }>,
  trigger?: { title: string; caption: string }): StepFlowNode[] {
  const byNode = problemsByNode(problems);
  const old = new Map(previous.map((n) => [n.id, n]));
  const head = trigger ? [triggerNode(doc, byNode.get(TRIGGER_NODE) ?? [], trigger.title, trigger.caption, layout,
    old.get(TRIGGER_NODE)?.selected ?? false)] : [];
  return [...head, ...doc.steps.map((step, i): StepFlowNode => {
    const kind = kindOf(step);
    const before = old.get(step.id);
    const data = {
      id: step.id, kind, title: titles[step.type ?? kind] ?? step.type ?? kind,
      exits: exitsOf(doc, i).map((e) => ({ handle: e.handle, label: e.handle.replace(/^(case|arm):/, "#") })),
      problems: byNode.get(step.id) ?? [], status: statuses[step.id],
    };
    const position = positionOf(step) ?? layout[step.id] ?? before?.position ?? { x: 0, y: i * 120 };
    return { id: step.id, type: "step", position, data, selected: before?.selected ?? false };
  })];
}

const NO_PROBLEMS: NodeProblem[] = [];
const NOTHING: Record<string, string> = {};

export function FlowCanvas({ doc, showTrigger = false, triggerTitle = "", triggerCaption = "", problems = NO_PROBLEMS, statuses = NOTHING, titles = NOTHING, readOnly = false, onConnect, onReconnect, onMoved,
  onSelect, onDelete, onLayout }: Props) {
  const { t } = useI18n();
  const [layout, setLayout] = useState<Record<string, { x: number; y: number }>>({});
  const [nodes, setNodes] = useState<StepFlowNode[]>([]);
  const laidOut = useRef("");
  const edges = useMemo<Edge[]>(() => [...(showTrigger ? [triggerEdge(doc)].filter((e) => e !== null) : []), ...edgesOf(doc)].map((e) => ({
    id: e.id, source: e.source, sourceHandle: e.sourceHandle, target: e.target,
    label: e.sourceHandle === "next" || e.source === TRIGGER_NODE ? undefined : e.sourceHandle,
    className: e.implicit && e.source !== TRIGGER_NODE ? "flow-edge-implicit" : undefined,
    deletable: e.source !== TRIGGER_NODE,
  })), [doc, showTrigger]);

  const unplaced = doc.steps.filter((s) => !positionOf(s) && !layout[s.id]).map((s) => s.id).join(",");
  useEffect(() => {
    if (!unplaced || laidOut.current === unplaced) return;
    laidOut.current = unplaced;
    let live = true;
    void layoutSteps(doc.steps, edgesOf(doc)).then((positions) => {
      if (!live) return;
      const missing = Object.fromEntries(Object.entries(positions).filter(([id]) => unplaced.split(",").includes(id)));
      setLayout((l) => ({ ...l, ...missing }));
      onLayout?.(missing);
    });
    return () => { live = false; };
  }, [unplaced, doc, onLayout]);

  useEffect(() => {
    setNodes((prev) => buildNodes(doc, problems, statuses, titles, prev, layout,
      showTrigger ? { title: triggerTitle, caption: triggerCaption } : undefined));
  }, [doc, problems, statuses, titles, layout, showTrigger, triggerTitle, triggerCaption]);

  const onNodesChange = useCallback((changes: NodeChange<StepFlowNode>[]) => {
    setNodes((ns) => applyNodeChanges(changes, ns));
    const moved: Record<string, { x: number; y: number }> = {};
    for (const c of changes) {
      if (c.type === "position" && c.dragging === false && c.position) moved[c.id] = c.position;
    }
    if (Object.keys(moved).length) onMoved?.(moved);
  }, [onMoved]);

  const connect = useCallback((c: Connection) => {
    if (c.source && c.target) onConnect?.({ source: c.source, sourceHandle: c.sourceHandle ?? "next", target: c.target });
  }, [onConnect]);
  const reconnect = useCallback((old: Edge, c: Connection) => {
    if (c.source && c.target) {
      onReconnect?.({ source: old.source, sourceHandle: old.sourceHandle ?? "next" },
        { source: c.source, sourceHandle: c.sourceHandle ?? "next", target: c.target });
    }
  }, [onReconnect]);
  const select = useCallback((p: OnSelectionChangeParams) => onSelect?.(p.nodes.map((n) => n.id)), [onSelect]);
  const remove = useCallback((gone: StepFlowNode[]) => onDelete?.(gone.map((n) => n.id).filter((id) => id !== TRIGGER_NODE)),
    [onDelete]);

  return (
    <div className="flow-canvas" aria-label={t("wf.canvas")}>
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} onNodesChange={onNodesChange}
        onConnect={readOnly ? undefined : connect} onReconnect={readOnly ? undefined : reconnect}
        onSelectionChange={select} onNodesDelete={readOnly ? undefined : remove}
        nodesDraggable={!readOnly} nodesConnectable={!readOnly} edgesReconnectable={!readOnly}
        deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]} onlyRenderVisibleElements
        fitView minZoom={0.1}>
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
