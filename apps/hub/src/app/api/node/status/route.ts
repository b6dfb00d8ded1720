import { reportNodeStatus } from "@pathx/api";
import { z } from "zod";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";

const status = z.object({ queueDepth: z.number().int().min(0), lastError: z.string().max(2000).nullable() });

/** A node's heartbeat: how many slides wait on it and its last problem, for the lab admin's node list. */
export const POST = (request: Request) =>
  handleNodeRequest(request, async (node, { db }) => {
    await reportNodeStatus(db, node.id, await readNodeJson(request, status, "node status"));
  });
