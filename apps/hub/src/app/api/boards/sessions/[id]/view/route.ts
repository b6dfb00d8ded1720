import { BODY_LIMITS, boardViewInput, moveBoardView } from "@pathx/api";
import { handleBoardRequest } from "@/server/board-route";
import { readSmallJson } from "@/server/request-body";

/** The presenter's view changes and pointer moves, fanned out to the session's live connections. */
export async function POST(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handleBoardRequest(request, [id], async (userId, deps) => {
    const parsed = boardViewInput.safeParse(await readSmallJson(request, BODY_LIMITS.smallJson));
    if (!parsed.success) return Response.json({ error: "The view update was not understood; reload the page." }, { status: 400 });
    await moveBoardView({ db: deps.db, channel: deps.boardChannel }, userId, id, parsed.data);
    return new Response(null, { status: 204 });
  });
}
