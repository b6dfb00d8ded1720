import { findOpenOrder, startUpload, uploadStartInput } from "@pathx/api";
import { z } from "zod";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";

/** With orderId: the file of an index-only slide the hub ordered, filling that slide. */
const input = uploadStartInput.extend({ orderId: z.string().optional() });

export const POST = (request: Request) =>
  handleNodeRequest(request, async (node, { db }) => {
    const { orderId, ...start } = await readNodeJson(request, input, "upload request");
    const order = orderId ? await findOpenOrder(db, node.id, orderId) : undefined;
    return startUpload(db, node.labId, null, start, node.id, order?.slideId);
  });
