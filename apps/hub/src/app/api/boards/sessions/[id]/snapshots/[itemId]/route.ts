import { MAX_SNAPSHOT_BYTES, addSnapshot, snapshotTooLarge } from "@pathx/api";
import { handleBoardRequest } from "@/server/board-route";

/** The presenter uploads a JPEG of the current view for an agenda item. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string; itemId: string }> }) {
  const { id, itemId } = await params;
  return handleBoardRequest(async (userId, deps) => {
    // Refused before the body is read.
    if (Number(request.headers.get("content-length") ?? 0) > MAX_SNAPSHOT_BYTES) throw snapshotTooLarge();
    const bytes = new Uint8Array(await request.arrayBuffer());
    return Response.json(await addSnapshot({ db: deps.db, store: deps.store, channel: deps.boardChannel }, userId, id, itemId, bytes));
  });
}
