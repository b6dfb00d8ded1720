import { describe, expect, it } from "vitest";
import { clientAddress, currentRequestOrigin, runWithRequestOrigin } from "./request-context";

describe("clientAddress", () => {
  it("takes the TCP peer the web process recorded when no proxy is trusted, and ignores forwarded headers", () => {
    const h = new Headers({ "x-pathx-peer": "::ffff:192.0.2.7", "x-forwarded-for": "203.0.113.9", "x-real-ip": "203.0.113.9" });
    expect(clientAddress(h, 0)).toBe("192.0.2.7");
    expect(clientAddress(new Headers({ "x-forwarded-for": "203.0.113.9" }), 0)).toBeNull();
  });

  it("behind trusted proxies takes the entry the outermost one appended, not what the client wrote", () => {
    const h = new Headers({ "x-forwarded-for": "10.9.9.9, 198.51.100.4, 10.0.0.2" });
    expect(clientAddress(h, 1)).toBe("10.0.0.2");
    expect(clientAddress(h, 2)).toBe("198.51.100.4");
    expect(clientAddress(new Headers({ "x-forwarded-for": "198.51.100.4" }), 2)).toBeNull();
    expect(clientAddress(new Headers({ "x-forwarded-for": "not-an-ip" }), 1)).toBeNull();
  });

  it("carries the origin through asynchronous work of one request", async () => {
    const seen = await runWithRequestOrigin({ ip: "192.0.2.1" }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentRequestOrigin()?.ip;
    });
    expect(seen).toBe("192.0.2.1");
    expect(currentRequestOrigin()).toBeUndefined();
  });
});
