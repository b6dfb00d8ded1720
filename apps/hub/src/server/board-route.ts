import { currentUserId } from "@/auth";
import { guardApiRoute } from "./api-guard";
import { answerBoardRequest } from "./board-answer";
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
  return guardApiRoute(request, async () =>
    answerBoardRequest(await currentUserId(), ids, async (userId) => {
      const deps = await getDeps();
      return withRequestOrigin(() => run(userId, deps));
    }),
  );
}
