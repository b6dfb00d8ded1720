import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { answerThumbnail } from "./thumbnail-answer";

let root: string;
let store: ObjectStore;
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pathx-thumb-"));
  store = createLocalStore(root);
  await store.put("tiles/s/1/thumb.jpeg", jpeg);
  // Packed thumbnails: many in one object, each a byte range.
  await store.put("thumbs/pack-1", Buffer.concat([Buffer.from("xxxx"), jpeg, Buffer.from("yyyy")]));
});

afterAll(() => rm(root, { recursive: true, force: true }));

const get = (headers: Record<string, string> = {}) => new Request("https://hub.example/slides/x/thumbnail", { headers });
const openStore = async () => store;

describe("answerThumbnail", () => {
  it("asks a caller who is not signed in to sign in (401), not cached", async () => {
    const response = await answerThumbnail(get(), "unauthenticated", openStore);
    expect(response.status).toBe(401);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.text()).toBe("Sign in to view slides.");
  });

  it("answers a denied slide and one without a thumbnail alike (404), without reading the store", async () => {
    let opened = false;
    const spy = async () => {
      opened = true;
      return store;
    };
    for (const access of ["denied", { tilesPrefix: "tiles/s/1", thumbnailKey: null }] as const) {
      const response = await answerThumbnail(get(), access, spy);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe("Not found.");
    }
    expect(opened).toBe(false);
  });

  it("sends the thumbnail as a private, cacheable JPEG with its length and an etag", async () => {
    const response = await answerThumbnail(get(), { tilesPrefix: null, thumbnailKey: "tiles/s/1/thumb.jpeg" }, openStore);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(jpeg);
    expect(response.headers.get("content-type")).toBe("image/jpeg");
    expect(response.headers.get("content-length")).toBe(String(jpeg.length));
    expect(response.headers.get("cache-control")).toBe("private, max-age=3600");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("etag")).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
  });

  it("reads a packed thumbnail's byte range", async () => {
    const response = await answerThumbnail(get(), { tilesPrefix: null, thumbnailKey: `thumbs/pack-1#4+${jpeg.length}` }, openStore);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(jpeg);
  });

  it("answers 304 to a browser that has this thumbnail, and the picture to one with another", async () => {
    const access = { tilesPrefix: null, thumbnailKey: "tiles/s/1/thumb.jpeg" };
    const etag = (await answerThumbnail(get(), access, openStore)).headers.get("etag")!;
    const again = await answerThumbnail(get({ "if-none-match": etag }), access, openStore);
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect((await answerThumbnail(get({ "if-none-match": '"another"' }), access, openStore)).status).toBe(200);
    // Another key is another version.
    const other = await answerThumbnail(get(), { tilesPrefix: null, thumbnailKey: `thumbs/pack-1#4+${jpeg.length}` }, openStore);
    expect(other.headers.get("etag")).not.toBe(etag);
  });

  it("answers a thumbnail missing from the store with the store's client error", async () => {
    const response = await answerThumbnail(get(), { tilesPrefix: null, thumbnailKey: "tiles/gone/thumb.jpeg" }, openStore);
    expect(response.status).toBe(404);
    expect(response.headers.get("cache-control")).toBe("no-store");
  });
});
