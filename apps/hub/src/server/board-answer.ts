import { ApiError, httpStatusOf, isUuid } from "@pathx/api";

/**
 * The answer to a tumor-board route once the caller is known (handleBoardRequest finds the
 * signed-in user): errors answer JSON with the domain's message (a non-member gets 404, as for
 * a board that does not exist; so does a malformed id).
 */
export async function answerBoardRequest(userId: string | undefined, ids: string[], run: (userId: string) => Promise<Response>): Promise<Response> {
  if (!userId) return Response.json({ error: "Sign in to take part in tumor boards." }, { status: 401 });
  if (!ids.every(isUuid)) return Response.json({ error: "This board session does not exist." }, { status: 404 });
  try {
    return await run(userId);
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    console.error(error);
    return Response.json({ error: "The hub could not do this just now; try again." }, { status: 500 });
  }
}
