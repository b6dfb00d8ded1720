import { ApiError, exportAnnotationsGeoJson, httpStatusOf, isUuid, loadSessionUser } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "@/server/deps";
import { withRequestOrigin } from "@/server/request-origin";

const noStore = { "cache-control": "no-store" };

/** The annotations the signed-in user sees on a slide, as a GeoJSON download; another lab's slide answers 404. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const userId = await currentUserId();
  const { db } = await getDeps();
  const user = userId ? await loadSessionUser(db, userId) : undefined;
  if (!user) return new Response("Sign in to export annotations.", { status: 401, headers: noStore });
  if (!isUuid(id)) return new Response("Slide not found.", { status: 404, headers: noStore });
  try {
    const collection = await withRequestOrigin(() => exportAnnotationsGeoJson(db, user, id));
    return new Response(JSON.stringify(collection, null, 1), {
      headers: {
        ...noStore,
        "content-type": "application/geo+json; charset=utf-8",
        "content-disposition": `attachment; filename="slide-${collection.pathx.slideId}-annotations.geojson"`,
      },
    });
  } catch (error) {
    if (error instanceof ApiError) return new Response(error.message, { status: httpStatusOf(error), headers: noStore });
    throw error;
  }
}
