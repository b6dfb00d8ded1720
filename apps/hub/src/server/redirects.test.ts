import { describe, expect, it } from "vitest";
import { canonicalPageUrl, inboxTarget, landingUrl } from "./redirects";

describe("canonicalPageUrl", () => {
  const canonical = "http://127.0.0.1:3000";

  it("sends a page asked for under the other loopback name to the public URL, path and query kept", () => {
    expect(canonicalPageUrl("localhost:3000", "/slides/x?tab=a", canonical)).toBe("http://127.0.0.1:3000/slides/x?tab=a");
    expect(canonicalPageUrl("[::1]:3000", "/", canonical)).toBe("http://127.0.0.1:3000/");
    expect(canonicalPageUrl("127.0.0.1:3000", "/", "http://localhost:3000")).toBe("http://localhost:3000/");
  });

  it("leaves the public host, other hosts and a hub without AUTH_URL alone", () => {
    expect(canonicalPageUrl("127.0.0.1:3000", "/", canonical)).toBeUndefined();
    // A load balancer's health check, or a hub behind a real name.
    expect(canonicalPageUrl("10.0.0.7:3000", "/", canonical)).toBeUndefined();
    expect(canonicalPageUrl("localhost:3000", "/", "https://hub.example")).toBeUndefined();
    expect(canonicalPageUrl("localhost:3000", "/", undefined)).toBeUndefined();
  });
});

describe("landingUrl", () => {
  it("lands on the public origin, whatever origin the request had", () => {
    expect(landingUrl("http://localhost:3000/dashboard?x=1", "http://localhost:3000", "http://127.0.0.1:3000")).toBe("http://127.0.0.1:3000/dashboard?x=1");
    expect(landingUrl("/inbox", "http://localhost:3000", "http://127.0.0.1:3000")).toBe("http://127.0.0.1:3000/inbox");
    expect(landingUrl("/inbox", "https://hub.example", undefined)).toBe("https://hub.example/inbox");
  });

  it("never leaves the site", () => {
    expect(landingUrl("https://evil.example/phish", "https://hub.example", undefined)).toBe("https://hub.example");
    expect(landingUrl("//evil.example/phish", "http://localhost:3000", "http://127.0.0.1:3000")).toBe("http://127.0.0.1:3000");
  });
});

describe("inboxTarget", () => {
  it("follows hub paths only", () => {
    expect(inboxTarget("/consults/abc")).toBe("/consults/abc");
    expect(inboxTarget("//evil.example/x")).toBe("/inbox");
    expect(inboxTarget("https://evil.example/x")).toBe("/inbox");
    expect(inboxTarget("javascript:alert(1)")).toBe("/inbox");
  });
});
