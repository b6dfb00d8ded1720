import { getDeps } from "@/server/deps";
import { answerThumbnail } from "@/server/thumbnail-answer";
import { decideTileAccess } from "@/server/tile-access";

/**
 * A slide's thumbnail for the dashboard, case and consult pages (the viewer's tiles come from
 * the tile service). Another lab's slide and a missing one both answer 404.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const access = await decideTileAccess(request.headers, id);
  return answerThumbnail(request, access, async () => (await getDeps()).store);
}
