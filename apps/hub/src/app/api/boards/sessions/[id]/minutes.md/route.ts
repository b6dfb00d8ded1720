import { boardMinutesMarkdown } from "@pathx/api";
import { publicUrl } from "@/server/public-url";
import { handleBoardRequest } from "@/server/board-route";

/** The session's minutes as a Markdown download; snapshot images are linked by their hub URL. */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handleBoardRequest(request, [id], async (userId, deps) => {
    const hubUrl = publicUrl("/", request).origin;
    const { fileName, markdown } = await boardMinutesMarkdown(deps.db, userId, id, hubUrl);
    return new Response(markdown, {
      headers: { "content-type": "text/markdown; charset=utf-8", "content-disposition": `attachment; filename="${fileName}"`, "cache-control": "no-store" },
    });
  });
}
