import { afterEach, describe, expect, it, vi } from "vitest";

// The hub's settings are read once per module instance: each case loads the module afresh.
async function loadPublicUrl(authUrl: string | undefined) {
  vi.resetModules();
  vi.stubEnv("AUTH_SECRET", "a-test-secret-of-enough-length");
  vi.stubEnv("AUTH_URL", authUrl);
  return (await import("./public-url")).publicUrl;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("publicUrl", () => {
  it("builds the URL from AUTH_URL, not from the address the server is bound to", async () => {
    const publicUrl = await loadPublicUrl("https://hub.example");
    expect(publicUrl("/inbox", new Request("http://0.0.0.0:3000/inbox/abc")).toString()).toBe("https://hub.example/inbox");
    expect(publicUrl("/sign-in?next=/inbox", new Request("http://0.0.0.0:3000/x")).toString()).toBe("https://hub.example/sign-in?next=/inbox");
  });

  it("falls back to the request's origin without AUTH_URL", async () => {
    const publicUrl = await loadPublicUrl(undefined);
    expect(publicUrl("/inbox", new Request("http://127.0.0.1:3000/inbox/abc")).toString()).toBe("http://127.0.0.1:3000/inbox");
  });
});
