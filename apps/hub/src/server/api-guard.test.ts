import { describe, expect, it, vi } from "vitest";
import { guardApiRoute, securityHeadersFor } from "./api-guard";

// The hub's settings are read once, on first use (inside the first request): every test here runs with these.
vi.stubEnv("AUTH_SECRET", "a-test-secret-of-enough-length");
vi.stubEnv("AUTH_URL", "https://hub.example");
vi.stubEnv("TILES_PUBLIC_URL", "https://tiles.example/dz/");
vi.stubEnv("NODE_ENV", "production");

const answered = () => Promise.resolve(Response.json({ ok: true }, { status: 201, headers: { "x-route": "ran" } }));

describe("guardApiRoute", () => {
  it("refuses a cross-site state change before the route runs, with the security headers", async () => {
    let ran = false;
    const request = new Request("https://hub.example/api/boards/sessions/x/view", {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: "{}",
    });
    const response = await guardApiRoute(request, () => {
      ran = true;
      return answered();
    });
    expect(ran).toBe(false);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/.+/);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });

  it("refuses a tRPC mutation that is not JSON (415)", async () => {
    const request = new Request("https://hub.example/api/trpc/inbox.markRead", {
      method: "POST",
      headers: { origin: "https://hub.example", "content-type": "text/plain" },
      body: "{}",
    });
    expect((await guardApiRoute(request, answered)).status).toBe(415);
  });

  it("runs the route for the hub's own pages and keeps its answer, adding the security headers", async () => {
    const request = new Request("https://hub.example/api/trpc/inbox.markRead", {
      method: "POST",
      headers: { origin: "https://hub.example", "content-type": "application/json" },
      body: "{}",
    });
    const response = await guardApiRoute(request, answered);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get("x-route")).toBe("ran");
    expect(response.headers.get("content-security-policy")).toContain("img-src 'self' data: blob: https://tiles.example;");
  });

  it("lets reads through from anywhere", async () => {
    const request = new Request("https://hub.example/api/boards/sessions/x/live", { headers: { origin: "https://evil.example" } });
    expect((await guardApiRoute(request, answered)).status).toBe(201);
  });
});

describe("securityHeadersFor", () => {
  it("uses a fresh nonce each time and asks for HTTPS when the public URL is https", () => {
    const a = securityHeadersFor(new Headers())["Content-Security-Policy"]!;
    const b = securityHeadersFor(new Headers())["Content-Security-Policy"]!;
    const nonce = (csp: string) => /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce(a)).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(nonce(a)).not.toBe(nonce(b));
    expect(securityHeadersFor(new Headers())["Strict-Transport-Security"]).toContain("max-age=");
    expect(a).not.toContain("'unsafe-eval'");
  });
});
