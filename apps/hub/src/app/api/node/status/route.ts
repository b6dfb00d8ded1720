import { reportNodeStatus } from "@pathx/api";
import { OK, nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";

/** A node's heartbeat: how many slides wait on it and its last problem, for the lab admin's node list. */
export const POST = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.status, async (node, { db }) => {
    await reportNodeStatus(db, node.id, await readNodeJson(request, nodeRoutes.status.body, "node status"));
    return OK;
  });
