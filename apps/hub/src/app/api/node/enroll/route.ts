import { ApiError, BODY_LIMITS, enrollNode, httpStatusOf } from "@pathx/api";
import { z } from "zod";
import { getDeps } from "@/server/deps";
import { withRequestOrigin } from "@/server/request-origin";
import { readSmallJson } from "@/server/request-body";

const enrollment = z.object({ token: z.string().min(1).max(200), name: z.string().max(200).optional(), version: z.string().max(100).optional() });

/** A node exchanges its one-time enrolment token for its own credential (the token is its only authentication: the body is kept small). */
export async function POST(request: Request) {
  try {
    const body = enrollment.safeParse(await readSmallJson(request, 4096));
    if (!body.success) return Response.json({ error: "An enrolment token is required." }, { status: 400 });
    const { db } = await getDeps();
    return Response.json(await withRequestOrigin(() => enrollNode(db, body.data.token, { name: body.data.name ?? "", version: body.data.version })));
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    throw error;
  }
}
