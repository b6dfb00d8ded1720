import { BODY_LIMITS, indexBatchInput, registerIndexedSlides } from "@pathx/api";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";
import { chunkLimits } from "@/server/request-body";

/** Index-only registration: a batch of slide records (metadata + thumbnail) whose pixels stay at the lab. */
export const POST = (request: Request) =>
  handleNodeRequest(request, async (node, { db, store }) => {
    const { records } = await readNodeJson(request, indexBatchInput, "index batch", chunkLimits(BODY_LIMITS.indexBatch));
    return registerIndexedSlides(db, store, node, records);
  });
