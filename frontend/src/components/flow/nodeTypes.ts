// Defined once at module level: a new object per render would make React Flow remount every node.
import type { NodeTypes } from "@xyflow/react";
import { StepNode } from "./StepNode";

export const nodeTypes: NodeTypes = { step: StepNode };
