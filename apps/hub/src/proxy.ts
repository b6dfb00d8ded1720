import { type NextRequest, NextResponse } from "next/server";
import { hubEnv } from "./env";
import { allowedOrigins, checkCsrf, securityHeaders, servedOverHttps } from "./server/request-guard";

/**
 * Every request: state-changing ones from another site are refused (CSRF), and every response
 * carries the security headers with a fresh script nonce (Next applies it to its own scripts).
 */
export function proxy(request: NextRequest) {
  const env = hubEnv();
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const headers = securityHeaders({
    nonce,
    tileOrigin: new URL(env.TILES_PUBLIC_URL).origin,
    oidcOrigin: env.OIDC_ISSUER,
    https: servedOverHttps(request.headers, env.AUTH_URL),
    development: env.NODE_ENV === "development",
  });
  const verdict = checkCsrf({ method: request.method, path: request.nextUrl.pathname, headers: request.headers }, allowedOrigins(request.headers, env.AUTH_URL));
  const response = verdict.allowed
    ? NextResponse.next({ request: { headers: withPolicy(request.headers, headers["Content-Security-Policy"]!) } })
    : NextResponse.json({ error: { message: verdict.message } }, { status: verdict.status });
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

function withPolicy(original: Headers, policy: string): Headers {
  const headers = new Headers(original);
  headers.set("Content-Security-Policy", policy);
  return headers;
}
