import { ApiError, BODY_LIMITS, httpStatusOf, readBoundedBody } from "@pathx/api";
import { NextRequest } from "next/server";
import { handlers } from "@/auth";
import { bodyLimits } from "@/server/request-body";

export const { GET } = handlers;

/** Sign-in and sign-out forms: a small body, bounded while it streams, before Auth.js parses it. */
export async function POST(request: NextRequest) {
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await readBoundedBody(request, bodyLimits(BODY_LIMITS.smallJson));
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    throw error;
  }
  return handlers.POST(new NextRequest(request.url, { method: "POST", headers: request.headers, body }));
}
