import { type NextRequest, NextResponse } from "next/server";
import { hubEnv } from "./env";
import { securityHeadersFor } from "./server/api-guard";
import { canonicalPageUrl } from "./server/redirects";
import { allowedOrigins, checkCsrf } from "./server/request-guard";

// Pages only: API clients (lab nodes) use the URL they were given.
const notAPage = /^\/(api\/|_next\/|favicon\.ico)/;

/**
 * Every request: state-changing ones from another site are refused (CSRF), and every response
 * carries the security headers with a fresh script nonce (Next applies it to its own scripts).
 * A page asked for under the other loopback name than AUTH_URL's is sent to AUTH_URL first.
 */
export function proxy(request: NextRequest) {
  const env = hubEnv();
  const headers = securityHeadersFor(request.headers);
  const moved = notAPage.test(request.nextUrl.pathname) ? undefined : canonicalRedirect(request, env.AUTH_URL);
  const verdict = checkCsrf(
    { method: request.method, path: request.nextUrl.pathname, headers: request.headers },
    allowedOrigins(request.headers, env.AUTH_URL),
  );
  const response =
    moved ??
    (verdict.allowed
      ? NextResponse.next({ request: { headers: withPolicy(request.headers, headers["Content-Security-Policy"]!) } })
      : NextResponse.json({ error: { message: verdict.message } }, { status: verdict.status }));
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

function withPolicy(original: Headers, policy: string): Headers {
  const headers = new Headers(original);
  headers.set("Content-Security-Policy", policy);
  return headers;
}

/** A page asked for under the other loopback name than AUTH_URL's: a redirect to AUTH_URL (server/redirects.ts). */
function canonicalRedirect(request: NextRequest, canonical: string | undefined): NextResponse | undefined {
  const url = canonicalPageUrl(request.headers.get("host") ?? "", request.nextUrl.pathname + request.nextUrl.search, canonical);
  if (!url) return undefined;
  const origin = new URL(url).origin;
  // Next turns the Location of a 301/302/303/307/308 from here into a path when the target is its
  // own listening address, which sends the browser back to localhost; a 300 keeps it whole, and
  // browsers follow it (the page says the same for anything that does not).
  const page = `<!doctype html><meta http-equiv="refresh" content="0;url=${url}"><title>Moved</title><p>This hub is at <a href="${url}">${origin}</a>.</p>`;
  return new NextResponse(page, { status: 300, headers: { location: url, "content-type": "text/html; charset=utf-8" } });
}

export const config = {
  // Next buffers (and cuts at 10 MB) the body of every request its proxy runs for, which would
  // defeat the routes' own limits enforced while streaming. Lab node routes authenticate with a
  // Bearer credential (no CSRF) and browser chunk uploads are PUTs (a cross-site page cannot send
  // one with cookies without a CORS preflight the hub never grants), so both stream past it;
  // tRPC and tumor-board routes run the same checks themselves (server/api-guard.ts).
  matcher: ["/((?!api/node/|api/uploads/|api/trpc/|api/boards/|_next/static/).*)"],
};
