import { MAX_SNAPSHOT_BYTES, addSnapshot, readBoundedBody } from "@pathx/api";
import { handleBoardRequest } from "@/server/board-route";
import { bodyLimits } from "@/server/request-body";

/** The presenter uploads a JPEG of the current view for an agenda item. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string; itemId: string }> }) {
  const { id, itemId } = await params;
  return handleBoardRequest(request, [id, itemId], async (userId, deps) => {
    // Counted while it streams (a chunked body has no Content-Length to trust).
    const bytes = await readBoundedBody(request, bodyLimits(MAX_SNAPSHOT_BYTES));
    return Response.json(await addSnapshot({ db: deps.db, store: deps.store, channel: deps.boardChannel }, userId, id, itemId, bytes));
  });
}
