// Auto-layout with elkjs (layered, top to bottom): positions for steps the definition has none for.
import type { ELK as Elk } from "elkjs/lib/elk-api";
import type { GraphEdge, StepDoc } from "../../lib/workflowGraph";

let elk: Promise<Elk> | null = null;

/** elkjs is big: it loads (its own chunk) the first time a graph needs a layout. */
function engine(): Promise<Elk> {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default());
  return elk;
}
export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 80;

export async function layoutSteps(steps: StepDoc[], edges: GraphEdge[]): Promise<Record<string, { x: number; y: number }>> {
  const graph = await (await engine()).layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.spacing.nodeNode": "40",
      "elk.layered.spacing.nodeNodeBetweenLayers": "60",
    },
    children: steps.map((s) => ({ id: s.id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  const out: Record<string, { x: number; y: number }> = {};
  for (const child of graph.children ?? []) out[child.id] = { x: child.x ?? 0, y: child.y ?? 0 };
  return out;
}
