import { describe, expect, it } from "vitest";
import { allowedOrigins, checkCsrf, clientAddress, contentSecurityPolicy, securityHeaders, servedOverHttps } from "./request-guard";

const hub = "https://hub.example";
const request = (method: string, path: string, headers: Record<string, string>) => ({
  method,
  path,
  headers: new Headers({ host: "hub.example", ...headers }),
});
const verdict = (method: string, path: string, headers: Record<string, string> = {}) => {
  const r = request(method, path, headers);
  return checkCsrf(r, allowedOrigins(r.headers, hub));
};

describe("CSRF check", () => {
  it("refuses a form POST from a foreign origin, on any route", () => {
    for (const path of ["/admin", "/api/trpc/nodes.createEnrollmentToken", "/api/uploads/x/chunks/0", "/api/boards/sessions/x/view", "/api/auth/signout"]) {
      expect(verdict("POST", path, { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" })).toMatchObject({
        allowed: false,
        status: 403,
      });
    }
    expect(verdict("PUT", "/api/uploads/x/chunks/0", { "sec-fetch-site": "cross-site" })).toMatchObject({ allowed: false, status: 403 });
    expect(verdict("DELETE", "/anything", { "sec-fetch-site": "same-site" })).toMatchObject({ allowed: false, status: 403 });
    expect(verdict("PATCH", "/anything", { origin: "null" })).toMatchObject({ allowed: false, status: 403 });
  });

  it("lets the hub's own pages change things", () => {
    expect(verdict("POST", "/admin", { origin: hub, "sec-fetch-site": "same-origin" })).toEqual({ allowed: true });
    expect(verdict("POST", "/api/trpc/inbox.markRead", { origin: hub, "content-type": "application/json" })).toEqual({ allowed: true });
    // The request's own host (e.g. reached at another name than AUTH_URL) is its own origin too.
    expect(verdict("POST", "/admin", { origin: "http://hub.example" })).toEqual({ allowed: true });
  });

  it("requires JSON for tRPC mutations, whatever the origin", () => {
    expect(verdict("POST", "/api/trpc/inbox.markRead", { origin: hub, "content-type": "text/plain" })).toMatchObject({ allowed: false, status: 415 });
    expect(verdict("POST", "/api/trpc/inbox.markRead", {})).toMatchObject({ allowed: false, status: 415 });
    expect(verdict("POST", "/api/trpc/inbox.markRead", { "content-type": "application/json; charset=utf-8" })).toEqual({ allowed: true });
  });

  it("leaves reads alone, and node routes with a Bearer credential", () => {
    expect(verdict("GET", "/api/trpc/me", { origin: "https://evil.example" })).toEqual({ allowed: true });
    expect(verdict("PUT", "/api/node/uploads/x/chunks/0", { authorization: "Bearer pxn_abc", "sec-fetch-site": "cross-site" })).toEqual({ allowed: true });
    // Without the credential a node route gets the same check as any other.
    expect(verdict("POST", "/api/node/enroll", { origin: "https://evil.example" })).toMatchObject({ allowed: false });
    // Not a browser (no Origin, no Sec-Fetch-Site): no ambient cookie to abuse.
    expect(verdict("POST", "/api/node/enroll", {})).toEqual({ allowed: true });
  });
});

describe("security headers", () => {
  const settings = { nonce: "abc", tileOrigin: "https://tiles.example/dz/", oidcOrigin: "https://id.lab.example/realms/x", https: false };
  it("allow scripts by nonce, tiles from the tile service, and no framing", () => {
    const csp = contentSecurityPolicy(settings);
    expect(csp).toContain("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(csp).toContain("img-src 'self' data: blob: https://tiles.example;");
    expect(csp).toContain("connect-src 'self' https://tiles.example;");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://id.lab.example;");
    expect(csp).toContain("'wasm-unsafe-eval'");
    expect(csp).not.toContain("'unsafe-eval'");
  });

  it("add HSTS only over HTTPS", () => {
    expect(securityHeaders(settings)).toMatchObject({ "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin" });
    expect(securityHeaders(settings)["Strict-Transport-Security"]).toBeUndefined();
    expect(securityHeaders({ ...settings, https: true })["Strict-Transport-Security"]).toMatch(/^max-age=\d+/);
    expect(servedOverHttps(new Headers({ "x-forwarded-proto": "https" }), "http://127.0.0.1:3000")).toBe(true);
    expect(servedOverHttps(new Headers(), "https://hub.example")).toBe(true);
    expect(servedOverHttps(new Headers({ "x-forwarded-proto": "http" }), undefined)).toBe(false);
  });

  it("take the client address the nearest proxy wrote", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": "10.0.0.1, 203.0.113.9" }))).toBe("203.0.113.9");
    expect(clientAddress(new Headers())).toBeUndefined();
  });
});
