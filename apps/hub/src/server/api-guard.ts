import { hubEnv } from "../env";
import { allowedOrigins, checkCsrf, securityHeaders, servedOverHttps } from "./request-guard";

/**
 * The proxy's checks for the API routes it skips (tRPC and tumor-board routes): Next buffers the
 * whole body of any request its proxy runs for, which would defeat these routes' limits enforced
 * while streaming. Cross-site state changes are refused here instead, before the body is read,
 * and the answer carries the same security headers as every other response.
 */
export async function guardApiRoute(request: Request, handle: () => Promise<Response>): Promise<Response> {
  const env = hubEnv();
  const url = new URL(request.url);
  const verdict = checkCsrf({ method: request.method, path: url.pathname, headers: request.headers }, allowedOrigins(request.headers, env.AUTH_URL));
  const response = verdict.allowed ? await handle() : Response.json({ error: { message: verdict.message } }, { status: verdict.status });
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(securityHeadersFor(request.headers))) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** This hub's security headers for a response to a request, with a fresh script nonce. */
export function securityHeadersFor(requestHeaders: Headers): Record<string, string> {
  const env = hubEnv();
  return securityHeaders({
    nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
    tileOrigin: new URL(env.TILES_PUBLIC_URL).origin,
    oidcOrigin: env.OIDC_ISSUER,
    https: servedOverHttps(requestHeaders, env.AUTH_URL),
    development: env.NODE_ENV === "development",
  });
}
