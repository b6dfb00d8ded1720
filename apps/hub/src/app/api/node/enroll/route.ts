import { ApiError, enrollNode, httpStatusOf } from "@pathx/api";
import { getDeps } from "@/server/deps";
import { withRequestOrigin } from "@/server/request-origin";

/** A node exchanges its one-time enrolment token for its own credential. */
export async function POST(request: Request) {
  const body = (await request.json().catch(() => ({}))) as { token?: string; name?: string; version?: string };
  if (!body.token) return Response.json({ error: "An enrolment token is required." }, { status: 400 });
  try {
    const { db } = await getDeps();
    return Response.json(await withRequestOrigin(() => enrollNode(db, body.token!, { name: body.name ?? "", version: body.version })));
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    throw error;
  }
}
