import { ApiError, BODY_LIMITS, httpStatusOf, readBoundedBody } from "@pathx/api";
import { NextRequest } from "next/server";
import { handlers } from "@/auth";
import { bodyLimits } from "@/server/request-body";

export const { GET } = handlers;

/**
 * Sign-in and sign-out forms: a small body, bounded while it streams, before Auth.js parses it.
 * A throttled password sign-in answers 429 with Retry-After (Auth.js itself only redirects to
 * the sign-in page with the error code, which carries the seconds to wait).
 */
export async function POST(request: NextRequest): Promise<Response> {
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await readBoundedBody(request, bodyLimits(BODY_LIMITS.smallJson));
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    throw error;
  }
  const response = await handlers.POST(new NextRequest(request.url, { method: "POST", headers: request.headers, body }));
  const location = response.headers.get("location");
  const wait = location ? /[?&]code=throttled_(\d+)/.exec(location)?.[1] : undefined;
  if (!wait) return response;
  return Response.json(
    { error: { message: `Too many sign-in attempts. Try again in ${wait} seconds.` } },
    { status: 429, headers: { "retry-after": wait, "cache-control": "no-store" } },
  );
}
