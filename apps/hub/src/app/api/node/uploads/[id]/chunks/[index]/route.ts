import { expectChunk, isUuid, notFound, readBoundedBody, receiveChunk } from "@pathx/api";
import { CHUNK_SHA256_HEADER, OK, nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest } from "@/server/node-api";
import { chunkLimits } from "@/server/request-body";

/** One chunk of a node's upload: an unknown upload is refused before the body is read, and the body is bounded by the chunk's size. */
export async function PUT(request: Request, { params }: { params: Promise<{ id: string; index: string }> }) {
  const { id, index } = await params;
  return handleNodeRequest(request, nodeRoutes.sendChunk, async (node, { db, store }) => {
    if (!isUuid(id)) throw notFound("Upload");
    const expected = await expectChunk(db, node.labId, id, Number(index));
    const bytes = await readBoundedBody(request, chunkLimits(expected));
    await receiveChunk(db, store, node.labId, id, Number(index), bytes, request.headers.get(CHUNK_SHA256_HEADER) ?? "");
    return OK;
  });
}
