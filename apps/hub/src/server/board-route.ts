import { ApiError, httpStatusOf, isUuid } from "@pathx/api";
import { currentUserId } from "@/auth";
import { guardApiRoute } from "./api-guard";
import { getDeps } from "./deps";
import { withRequestOrigin } from "./request-origin";

/**
 * A signed-in user's request to a tumor-board route. Errors answer JSON with the domain's
 * message (a non-member gets 404, as for a board that does not exist; so does a malformed id).
 */
export function handleBoardRequest(
  request: Request,
  ids: string[],
  run: (userId: string, deps: Awaited<ReturnType<typeof getDeps>>) => Promise<Response>,
): Promise<Response> {
  return guardApiRoute(request, () => answerBoardRequest(ids, run));
}

async function answerBoardRequest(ids: string[], run: (userId: string, deps: Awaited<ReturnType<typeof getDeps>>) => Promise<Response>): Promise<Response> {
  const userId = await currentUserId();
  if (!userId) return Response.json({ error: "Sign in to take part in tumor boards." }, { status: 401 });
  if (!ids.every(isUuid)) return Response.json({ error: "This board session does not exist." }, { status: 404 });
  try {
    const deps = await getDeps();
    return await withRequestOrigin(() => run(userId, deps));
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    console.error(error);
    return Response.json({ error: "The hub could not do this just now; try again." }, { status: 500 });
  }
}
