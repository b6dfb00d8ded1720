import { BODY_LIMITS, registerIndexedSlides } from "@pathx/api";
import { nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";
import { chunkLimits } from "@/server/request-body";

/** Index-only registration: a batch of slide records (metadata + thumbnail) whose pixels stay at the lab. */
export const POST = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.index, async (node, { db, store }) => {
    const { records } = await readNodeJson(request, nodeRoutes.index.body, "index batch", chunkLimits(BODY_LIMITS.indexBatch));
    return registerIndexedSlides(db, store, node, records);
  });
