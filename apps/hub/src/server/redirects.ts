/**
 * Where the hub sends a browser: pure decisions from the request's host and the public URL
 * (AUTH_URL), used by the proxy, Auth.js and the inbox route.
 */

const loopback = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * One URL for the hub on this machine: `next start` prints http://localhost:PORT while the
 * session cookie and sign-in redirects belong to AUTH_URL (http://127.0.0.1:PORT by default).
 * A page asked for under the other loopback name goes to AUTH_URL (the URL returned), so signing
 * in through either link ends signed in. Other hosts (a load balancer's health check) are left
 * alone (undefined).
 */
export function canonicalPageUrl(host: string, pathAndSearch: string, canonical: string | undefined): string | undefined {
  if (!canonical) return undefined;
  const target = new URL(canonical);
  const hostname = host.replace(/:\d+$/, "");
  if (host === target.host || !loopback.has(hostname) || !loopback.has(target.hostname)) return undefined;
  return new URL(pathAndSearch, target.origin).toString();
}

/**
 * Where a sign-in or sign-out lands (Auth.js `redirect` callback): on the public origin (the
 * request's own says localhost behind next start), never off the site.
 */
export function landingUrl(url: string, baseUrl: string, publicUrl: string | undefined): string {
  const origin = publicUrl ?? baseUrl;
  const target = new URL(url, origin);
  const allowed = new Set([new URL(origin).origin, new URL(baseUrl).origin]);
  return allowed.has(target.origin) ? `${new URL(origin).origin}${target.pathname}${target.search}` : origin;
}

/** An inbox entry's link if it is a path on this hub (the hub writes them); anything else goes to the inbox. */
export function inboxTarget(link: string): string {
  return link.startsWith("/") && !link.startsWith("//") ? link : "/inbox";
}
