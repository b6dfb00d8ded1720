/**
 * What the hub's proxy (src/proxy.ts) decides for every request, as pure functions: the CSRF
 * check on state-changing requests and the security headers of every response.
 */

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export type CsrfVerdict = { allowed: true } | { allowed: false; status: 403 | 415; message: string };

export interface GuardedRequest {
  method: string;
  /** The URL path, e.g. /api/trpc/members.add */
  path: string;
  headers: Headers;
}

/** The origins a browser may send state-changing requests from: the public URL and the request's own host. */
export function allowedOrigins(headers: Headers, publicUrl: string | undefined): Set<string> {
  const origins = new Set<string>();
  if (publicUrl) origins.add(new URL(publicUrl).origin);
  const host = headers.get("x-forwarded-host") ?? headers.get("host");
  const proto = headers.get("x-forwarded-proto")?.split(",")[0]?.trim() || "http";
  if (host) origins.add(`${proto}://${host}`);
  return origins;
}

/**
 * A cross-site request must not change anything: POST/PUT/PATCH/DELETE from a browser must come
 * from the hub's own origin (`Sec-Fetch-Site`, `Origin`), and tRPC mutations must be JSON (a
 * form cannot send that). A lab node authenticates with a Bearer credential, which a browser
 * never sends by itself, so node routes carrying one are exempt. A request with neither header
 * is not a browser's (every current browser sends Origin on POST) and carries no ambient cookie risk.
 */
export function checkCsrf(request: GuardedRequest, origins: Set<string>): CsrfVerdict {
  const method = request.method.toUpperCase();
  if (SAFE_METHODS.has(method)) return { allowed: true };
  const { headers, path } = request;
  if (path.startsWith("/api/node/") && /^Bearer\s+\S/i.test(headers.get("authorization") ?? "")) return { allowed: true };
  const refused = {
    allowed: false,
    status: 403,
    message: "This request came from another site and was refused. Open the exchange itself and try again.",
  } as const;
  const site = headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return refused;
  const origin = headers.get("origin");
  if (origin !== null && !origins.has(origin)) return refused;
  if (path.startsWith("/api/trpc/") && method === "POST") {
    const type = (headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json") return { allowed: false, status: 415, message: "Send this request as JSON (Content-Type: application/json)." };
  }
  return { allowed: true };
}

export interface HeaderSettings {
  nonce: string;
  tileOrigin: string;
  /** The identity provider's origin: the sign-in form is redirected there. */
  oidcOrigin?: string;
  https: boolean;
  development?: boolean;
}

/** The Content-Security-Policy the viewer works under: scripts by nonce, tiles from the tile service. */
export function contentSecurityPolicy(s: HeaderSettings): string {
  const tiles = new URL(s.tileOrigin).origin;
  return [
    "default-src 'self'",
    // The upload form hashes files with WebAssembly, which needs 'wasm-unsafe-eval' (it allows
    // compiling WebAssembly only, not eval). React's development build evaluates code; production does not.
    `script-src 'self' 'nonce-${s.nonce}' 'strict-dynamic' 'wasm-unsafe-eval'${s.development ? " 'unsafe-eval'" : ""}`,
    // React renders style attributes; OpenSeadragon positions its canvas with inline styles.
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob: ${tiles}`,
    `connect-src 'self' ${tiles}`,
    "font-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self'${s.oidcOrigin ? ` ${new URL(s.oidcOrigin).origin}` : ""}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

export function securityHeaders(s: HeaderSettings): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(s),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    // Slide and case ids in URLs stay on the hub.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    ...(s.https ? { "Strict-Transport-Security": "max-age=31536000; includeSubDomains" } : {}),
  };
}

/** Served over HTTPS: the public URL says so, or the TLS proxy in front does (X-Forwarded-Proto). */
export function servedOverHttps(headers: Headers, publicUrl: string | undefined): boolean {
  return publicUrl?.startsWith("https:") === true || headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

/**
 * The client's address for sign-in throttling: the last X-Forwarded-For entry, the one the
 * nearest proxy (or Next itself, from the socket) wrote.
 */
export function clientAddress(headers: Headers): string | undefined {
  const last = headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
  return last ? last.slice(0, 64) : undefined;
}
