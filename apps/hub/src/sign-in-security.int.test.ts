import { request as httpRequest } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HubProcess, signInOverHttp, startHubProcess } from "@pathx/node/test-support";
import { type HubPart, startWebApp } from "./test-support/hub-processes";

// The hub as npm start runs it (hub A) and a second web process on the same database (hub B,
// whose public URL names another host than the one it is reached at), driven over HTTP.
const PORT_OFFSET = Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
const PORT_A = 3540 + PORT_OFFSET;
const PORT_B = 3545 + PORT_OFFSET; // PORT_A + 1 is hub A's tile service
const SECRET = "sign-in-security-secret-shared-by-hubs";

let work: string;
let hubA: HubProcess;
let hubB: HubPart & { url: string };
let envB: Record<string, string>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pathx-signin-"));
  hubA = await startHubProcess({ port: PORT_A, dataDir: join(work, "hub"), authSecret: SECRET });
  envB = { DATABASE_URL: hubA.databaseUrl, DATABASE_PREPARE: "false", STORAGE_DIR: join(work, "hub", "objects"), AUTH_SECRET: SECRET };
  // Bound to every interface, as `next start -H 0.0.0.0` behind a balancer: its request URLs name 0.0.0.0.
  hubB = await startWebApp({ port: PORT_B, bindHost: "0.0.0.0", env: { ...envB, AUTH_URL: `http://localhost:${PORT_B}` } });
}, 600_000);

afterAll(async () => {
  await hubB?.stop();
  await hubA?.stop();
  await rm(work, { recursive: true, force: true });
});

/** What the tRPC `me` query answers with this cookie. */
const meStatus = (hub: string, cookie: string) => fetch(`${hub}/api/trpc/me`, { headers: { cookie } }).then((r) => r.status);

async function csrfToken(hub: string, cookie: string): Promise<string> {
  return ((await (await fetch(`${hub}/api/auth/csrf`, { headers: { cookie } })).json()) as { csrfToken: string }).csrfToken;
}

describe("security headers", () => {
  it("every response carries them, with HSTS only over HTTPS", async () => {
    for (const path of ["/sign-in", "/api/auth/csrf", "/api/trpc/me", "/no-such-page"]) {
      const response = await fetch(`${hubA.url}${path}`);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), path).toBe("same-origin");
      expect(response.headers.get("strict-transport-security"), path).toBeNull();
    }
    const html = await (await fetch(`${hubA.url}/sign-in`)).text();
    expect(html).toMatch(/<script[^>]+nonce="/);
    const viaTls = await fetch(`${hubA.url}/sign-in`, { headers: { "x-forwarded-proto": "https" } });
    expect(viaTls.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
  });
});

describe("CSRF", () => {
  it("refuses a form POST from another site, and tRPC mutations that are not JSON", async () => {
    const admin = await signInOverHttp(hubA.url, "admin@north.example");
    // A route handler, not tRPC: a text/plain POST needs no preflight, so another site's page
    // can send it with the user's cookie. It is refused before the route sees it.
    const boardView = await fetch(`${hubA.url}/api/boards/sessions/00000000-0000-4000-8000-000000000000/view`, {
      method: "POST",
      headers: { cookie: admin.cookie(), origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain" },
      body: JSON.stringify({ kind: "pointer", x: 0.5, y: 0.5 }),
    });
    expect(boardView.status).toBe(403);
    // <form enctype="text/plain"> on another site can send this without a preflight.
    const plain = await fetch(`${hubA.url}/api/trpc/nodes.createEnrollmentToken`, {
      method: "POST",
      headers: { cookie: admin.cookie(), origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain" },
      body: "null",
    });
    expect(plain.status).toBe(403);
    expect(await plain.text()).not.toContain("pxe_");
    const forged = await fetch(`${hubA.url}/api/trpc/nodes.createEnrollmentToken`, {
      method: "POST",
      headers: { cookie: admin.cookie(), origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: "x=1",
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).not.toContain("pxe_");
    const formAction = await fetch(`${hubA.url}/admin`, {
      method: "POST",
      headers: { cookie: admin.cookie(), origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "application/x-www-form-urlencoded" },
      body: "x=1",
    });
    expect(formAction.status).toBe(403);
    const notJson = await fetch(`${hubA.url}/api/trpc/inbox.markRead`, {
      method: "POST",
      headers: { cookie: admin.cookie(), origin: hubA.url, "content-type": "text/plain" },
      body: "{}",
    });
    expect(notJson.status).toBe(415);
    const own = await fetch(`${hubA.url}/api/trpc/nodes.createEnrollmentToken`, {
      method: "POST",
      headers: { cookie: admin.cookie(), origin: hubA.url, "content-type": "application/json" },
      body: "null",
    });
    expect(own.status).toBe(200);
  });
});

describe("sessions", () => {
  it("a copied cookie stops working after sign-out, on the other hub too", async () => {
    const session = await signInOverHttp(hubA.url, "pathologist@north.example");
    const copied = session.cookie();
    expect(await meStatus(hubA.url, copied)).toBe(200);
    expect(await meStatus(hubB.url, copied)).toBe(200);
    const signOut = await fetch(`${hubA.url}/api/auth/signout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: copied, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrfToken: await csrfToken(hubA.url, copied) }),
    });
    expect(signOut.status).toBe(302);
    expect(await meStatus(hubA.url, copied)).toBe(401);
    expect(await meStatus(hubB.url, copied)).toBe(401);
  });

  it("signing out everywhere on one hub ends the sessions used on the other", async () => {
    const onA = await signInOverHttp(hubA.url, "pathologist@south.example");
    const onB = await signInOverHttp(hubB.url, "pathologist@south.example");
    expect(await meStatus(hubA.url, onA.cookie())).toBe(200);
    await onB.mutate("sessions.signOutEverywhere");
    expect(await meStatus(hubA.url, onA.cookie())).toBe(401);
    expect(await meStatus(hubB.url, onB.cookie())).toBe(401);
  });
});

describe("sign-in throttling", () => {
  it("answers 429 with Retry-After after repeated wrong passwords, also to the right one", async () => {
    const attempt = async (password: string) => {
      const csrf = await fetch(`${hubB.url}/api/auth/csrf`);
      const cookie = csrf.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const { csrfToken: token } = (await csrf.json()) as { csrfToken: string };
      return fetch(`${hubB.url}/api/auth/callback/credentials`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken: token, email: "admin@east.example", password, callbackUrl: hubB.url }),
      });
    };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await attempt(`wrong-${i}`)).status);
    expect(statuses.slice(0, 6)).toEqual([302, 302, 302, 302, 302, 302]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    const right = await attempt("pathx-demo-2026");
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await right.json()) as { error: { message: string } }).error.message).toMatch(/Too many sign-in attempts/);
  });
});

describe("redirects", () => {
  it("an inbox link redirects to the public URL (AUTH_URL), not the address the hub was reached at", async () => {
    const session = await signInOverHttp(hubB.url, "pathologist@north.example");
    // Reached under another name, as behind a load balancer (a loopback name would first be sent to AUTH_URL's).
    const inbox = `${hubB.url}/inbox/00000000-0000-4000-8000-000000000000`;
    const response = await getWithHost(inbox, `hub-b.internal:${PORT_B}`, { cookie: session.cookie() });
    expect(response.status).toBe(303);
    expect(response.location).toBe(`http://localhost:${PORT_B}/inbox`);
    const anonymous = await getWithHost(inbox, `hub-b.internal:${PORT_B}`, {});
    expect(anonymous.location).toBe(`http://localhost:${PORT_B}/sign-in?next=/inbox`);
  });

  it("a page asked for under the other loopback name is sent to AUTH_URL's", async () => {
    const response = await fetch(`${hubB.url}/inbox`, { redirect: "manual" });
    expect(response.status).toBe(300);
    expect(response.headers.get("location")).toBe(`http://localhost:${PORT_B}/inbox`);
  });
});

/** A GET with a Host header of our choosing (fetch always sends the URL's own). */
function getWithHost(url: string, host: string, headers: Record<string, string>): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: { ...headers, host } }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, location: response.headers.location });
    });
    request.on("error", reject);
    request.end();
  });
}
