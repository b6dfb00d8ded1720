import { findOpenOrder, startUpload } from "@pathx/api";
import { nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";

/** With orderId: the file of an index-only slide the hub ordered, filling that slide. */
export const POST = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.startUpload, async (node, { db }) => {
    const { orderId, ...start } = await readNodeJson(request, nodeRoutes.startUpload.body, "upload request");
    const order = orderId ? await findOpenOrder(db, node.id, orderId) : undefined;
    return startUpload(db, node.labId, null, start, node.id, order?.slideId);
  });
