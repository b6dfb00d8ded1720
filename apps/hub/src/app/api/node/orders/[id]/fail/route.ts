import { failFetchOrder, isUuid, notFound } from "@pathx/api";
import { OK, nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest, readNodeJson } from "@/server/node-api";

/** The node could not send an ordered file; the reason is shown to whoever opened the slide. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handleNodeRequest(request, nodeRoutes.failOrder, async (node, { db }) => {
    if (!isUuid(id)) throw notFound("Order");
    const { reason } = await readNodeJson(request, nodeRoutes.failOrder.body, "failure report");
    await failFetchOrder(db, node.id, id, reason);
    return OK;
  });
}
