import { completeUpload, isUuid, notFound } from "@pathx/api";
import { nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest } from "@/server/node-api";

export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handleNodeRequest(request, nodeRoutes.completeUpload, (node, { db, store, enqueueTiling }) => {
    if (!isUuid(id)) throw notFound("Upload");
    return completeUpload(db, store, enqueueTiling!, node.labId, id);
  });
}
