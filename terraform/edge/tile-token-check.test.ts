import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { signTileToken, verifyTileToken } from "@pathx/tile-token";

// The CloudFront Function's JavaScript, run as CloudFront runs it: `cloudfront` gives the
// KeyValueStore, `require("crypto")` the HMAC. Its answers must match the tile service's check.
const source = readFileSync(new URL("./tile-token-check.js", import.meta.url), "utf8");
const secret = "edge-test-secret-edge-test-secret-0123";
type Handler = (event: unknown) => Promise<{ statusCode?: number; uri?: string }>;
const handler = new Function("cf", "require", `${source.replace(/^import cf from "cloudfront";$/m, "")}\nreturn handler;`)(
  { kvs: () => ({ get: async (key: string) => (key === "tile_token_secret" ? secret : undefined) }) },
  (name: string) => {
    if (name !== "crypto") throw new Error(`CloudFront Functions have no module ${name}`);
    return { createHmac };
  },
) as Handler;

const slideId = "0b6f4a59-2a6e-4c39-9d7e-1c2f3a4b5c6d";
const userId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const request = (uri: string, token?: string) => ({
  request: { method: "GET", uri, querystring: token === undefined ? {} : { t: { value: encodeURIComponent(token) } }, headers: {} },
});
const token = (overrides: Partial<Parameters<typeof signTileToken>[1]> = {}, key = secret) =>
  signTileToken(key, { slideId, version: "ab12cd", userId, issuedAt: Date.now(), expiresAt: Date.now() + 60_000, ...overrides });
const tile = `/tiles/${slideId}/ab12cd/slide_files/12/3_4.jpeg`;

describe("CloudFront Function tile token check", () => {
  it("passes a valid token's request on unchanged, for the descriptor and tiles", async () => {
    for (const uri of [tile, `/tiles/${slideId}/ab12cd/slide.dzi`]) {
      const event = request(uri, token());
      expect(await handler(event)).toBe(event.request);
    }
  });

  it("answers as the tile service does: 401 without a token, 404 for forged, expired, other slide, malformed", async () => {
    expect((await handler(request(tile))).statusCode).toBe(401);
    const cases: [string, string, string][] = [
      ["forged", tile, token({}, "another-key-another-key-another-key")],
      ["expired", tile, token({ issuedAt: Date.now() - 120_000, expiresAt: Date.now() - 1 })],
      ["other slide", tile.replace(slideId, "1b6f4a59-2a6e-4c39-9d7e-1c2f3a4b5c6d"), token()],
      ["other version", tile.replace("ab12cd", "ff00"), token()],
      ["malformed", tile, "x.y.z"],
      ["bad address", `/tiles/${slideId}/ab12cd/../../secret`, token()],
    ];
    for (const [name, uri, t] of cases) {
      expect((await handler(request(uri, t))).statusCode, name).toBe(404);
      // The same verdict from the tile service's own check.
      const [, , s, v] = uri.split("/");
      if (name !== "bad address") expect(verifyTileToken(secret, t, { slideId: s!, version: v! }).ok, name).toBe(false);
    }
  });
});
