import type { NextRequest } from "next/server";
import { handlers } from "@/auth";

export const { GET } = handlers;

/**
 * A throttled password sign-in answers 429 with Retry-After (Auth.js itself only redirects to
 * the sign-in page with the error code, which carries the seconds to wait).
 */
export async function POST(request: NextRequest): Promise<Response> {
  const response = await handlers.POST(request);
  const location = response.headers.get("location");
  const wait = location ? /[?&]code=throttled_(\d+)/.exec(location)?.[1] : undefined;
  if (!wait) return response;
  return Response.json(
    { error: { message: `Too many sign-in attempts. Try again in ${wait} seconds.` } },
    { status: 429, headers: { "retry-after": wait, "cache-control": "no-store" } },
  );
}
