import { ApiError, reportNodeStatus } from "@pathx/api";
import { z } from "zod";
import { handleNodeRequest } from "@/server/node-api";

const status = z.object({ queueDepth: z.number().int().min(0), lastError: z.string().max(2000).nullable() });

/** A node's heartbeat: how many slides wait on it and its last problem, for the lab admin's node list. */
export const POST = (request: Request) =>
  handleNodeRequest(request, async (node, { db }) => {
    const parsed = status.safeParse(await request.json().catch(() => undefined));
    if (!parsed.success) throw new ApiError("BAD_REQUEST", "Invalid node status.");
    await reportNodeStatus(db, node.id, parsed.data);
  });
