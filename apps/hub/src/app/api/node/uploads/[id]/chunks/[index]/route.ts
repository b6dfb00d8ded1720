import { receiveChunk } from "@pathx/api";
import { handleNodeRequest } from "@/server/node-api";

export async function PUT(request: Request, { params }: { params: Promise<{ id: string; index: string }> }) {
  const { id, index } = await params;
  return handleNodeRequest(request, async (node, { db, store }) =>
    receiveChunk(db, store, node.labId, id, Number(index), new Uint8Array(await request.arrayBuffer()), request.headers.get("x-chunk-sha256") ?? ""),
  );
}
