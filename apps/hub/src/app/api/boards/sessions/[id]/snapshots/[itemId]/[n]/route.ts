import { readSnapshot } from "@pathx/api";
import { handleBoardRequest } from "@/server/board-route";

/** Snapshot n of an agenda item, for the board's members; a stored snapshot never changes. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string; itemId: string; n: string }> }) {
  const { id, itemId, n } = await params;
  return handleBoardRequest(request, [id, itemId], async (userId, deps) => {
    const bytes = await readSnapshot(deps, userId, id, itemId, Number(n));
    return new Response(new Uint8Array(bytes), {
      headers: { "content-type": "image/jpeg", "cache-control": "private, max-age=3600", "content-length": String(bytes.length) },
    });
  });
}
