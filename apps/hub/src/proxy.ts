import { type NextRequest, NextResponse } from "next/server";
import { hubEnv } from "./env";

const loopback = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * One URL for the hub on this machine: `next start` prints http://localhost:PORT while the
 * session cookie and sign-in redirects belong to AUTH_URL (http://127.0.0.1:PORT by default).
 * A page asked for under the other loopback name is sent to AUTH_URL, so signing in through
 * either link ends signed in. Other hosts (a load balancer's health check) are left alone.
 */
export function proxy(request: NextRequest) {
  const canonical = hubEnv().AUTH_URL;
  if (!canonical) return NextResponse.next();
  const target = new URL(canonical);
  const host = request.headers.get("host") ?? "";
  const hostname = host.replace(/:\d+$/, "");
  if (host === target.host || !loopback.has(hostname) || !loopback.has(target.hostname)) return NextResponse.next();
  const url = new URL(request.nextUrl.pathname + request.nextUrl.search, target.origin).toString();
  // Next turns the Location of a 301/302/303/307/308 from here into a path when the target is its
  // own listening address, which sends the browser back to localhost; a 300 keeps it whole, and
  // browsers follow it (the page says the same for anything that does not).
  const page = `<!doctype html><meta http-equiv="refresh" content="0;url=${url}"><title>Moved</title><p>This hub is at <a href="${url}">${target.origin}</a>.</p>`;
  return new NextResponse(page, { status: 300, headers: { location: url, "content-type": "text/html; charset=utf-8" } });
}

export const config = {
  // Pages only: API clients (lab nodes, the tile route) use the URL they were given.
  matcher: ["/((?!api/|tiles/|_next/|favicon.ico).*)"],
};
