import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishAccessRevocation } from "@pathx/api";
import { schema } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { signTileToken } from "@pathx/tile-token";
import { buildDeepZoom, createMemorySource, openSlide } from "@pathx/wsi";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";
import { startTileService } from "./service";
import { TEST_SECRET, createStoreSink, createTilesFixture, testSettings } from "./test-support";

let fixture: Awaited<ReturnType<typeof createTilesFixture>>;
let service: Awaited<ReturnType<typeof startTileService>>;
let base: string;
let slideId: string;
const version = "a1b2c3";

const tokenFor = (options: { slide?: string; v?: string; user?: string; issuedAt?: number; expiresAt?: number; secret?: string } = {}) =>
  signTileToken(options.secret ?? TEST_SECRET, {
    slideId: options.slide ?? slideId,
    version: options.v ?? version,
    userId: options.user ?? fixture.userIds[0],
    issuedAt: options.issuedAt ?? Date.now(),
    expiresAt: options.expiresAt ?? Date.now() + 300_000,
  });
const url = (path: string, token?: string, slide = slideId, v = version) => `${base}/tiles/${slide}/${v}/${path}${token ? `?t=${token}` : ""}`;

beforeAll(async () => {
  fixture = await createTilesFixture();
  // A slide tiled the old way: one object per tile under its prefix.
  const prefix = `tiles/placeholder/${version}`;
  const slide = await fixture.addSlide({ tilesPrefix: prefix });
  slideId = slide.id;
  const realPrefix = `tiles/${slideId}/${version}`;
  await fixture.handle.db.update(schema.slides).set({ tilesPrefix: realPrefix }).where(eq(schema.slides.id, slideId));
  const tiff = writeTestTiff(pyramidImages(1200, 900, 256, 2, { compression: "jpeg" }));
  await buildDeepZoom(await openSlide(createMemorySource(tiff.bytes, "s.tif")), createStoreSink(fixture.store, realPrefix), { name: "slide" });
  service = await startTileService({ settings: testSettings(), handle: fixture.handle, store: fixture.store, log: () => {} });
  base = `http://127.0.0.1:${service.port}`;
});

afterAll(async () => {
  await service?.close();
  await fixture?.close();
});

describe("tile service", () => {
  it("serves the descriptor and tiles of a slide tiled the old way, cacheable by version", async () => {
    const token = tokenFor();
    const dzi = await fetch(url("slide.dzi", token), { headers: { origin: "http://hub.test:3000" } });
    expect(dzi.status).toBe(200);
    expect(dzi.headers.get("content-type")).toBe("application/xml");
    expect(dzi.headers.get("access-control-allow-origin")).toBe("http://hub.test:3000");
    expect(dzi.headers.get("cache-control")).toBe("private, max-age=86400, immutable");
    expect(await dzi.text()).toContain('Width="1200"');
    const tile = await fetch(url("slide_files/11/0_0.jpeg", token));
    expect(tile.status).toBe(200);
    const bytes = Buffer.from(await tile.arrayBuffer());
    expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(tile.headers.get("content-length")).toBe(String(bytes.length));
    const etag = tile.headers.get("etag")!;
    expect((await fetch(url("slide_files/11/0_0.jpeg", tokenFor()), { headers: { "if-none-match": etag } })).status).toBe(304);
    const head = await fetch(url("slide_files/11/0_0.jpeg", token), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(bytes.length));
  });

  it("401 only without a token; 404 for forged, expired, other-slide and malformed tokens or addresses", async () => {
    const missing = await fetch(url("slide.dzi"));
    expect(missing.status).toBe(401);
    expect(await missing.text()).toMatch(/^A tile token is needed.*\n$/);
    const other = await fixture.addSlide({ tilesPrefix: `tiles/x/${version}` });
    const cases: [string, string][] = [
      ["forged", tokenFor({ secret: "another-secret-another-secret-another" })],
      ["expired", tokenFor({ issuedAt: Date.now() - 600_000, expiresAt: Date.now() - 1000 })],
      ["other slide", tokenFor({ slide: other.id })],
      ["other version", tokenFor({ v: "ffff" })],
      ["malformed", "abc.def"],
    ];
    for (const [name, token] of cases) {
      const response = await fetch(url("slide_files/11/0_0.jpeg", token));
      expect(response.status, name).toBe(404);
      expect(await response.text(), name).toBe("Not found.\n");
    }
    const token = tokenFor();
    for (const path of [
      "slide_files/11/9_9.jpeg",
      "slide_files/40/0_0.jpeg",
      "slide_files/11/0_0.png",
      "slide_files/11/x_0.jpeg",
      "../../etc/passwd",
      "slide.xml",
    ]) {
      expect((await fetch(url(path, token))).status, path).toBe(404);
    }
    // A slide that does not exist (a token signed for it, as if forged with the key).
    const ghost = randomUUID();
    expect((await fetch(url("slide.dzi", tokenFor({ slide: ghost }), ghost))).status).toBe(404);
  });

  it("a revoked grant stops serving within 5 s; a token issued after the revocation works", async () => {
    const user = fixture.userIds[1];
    const before = tokenFor({ user });
    expect((await fetch(url("slide_files/11/0_0.jpeg", before))).status).toBe(200);
    const started = Date.now();
    await publishAccessRevocation(fixture.handle.db, { pairs: [{ userId: user, slideId }] });
    let status = 200;
    while (status === 200 && Date.now() - started < 5000) {
      status = (await fetch(url("slide_files/11/0_0.jpeg", before))).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(404);
    expect(Date.now() - started).toBeLessThan(5000);
    // Another user's token for the same slide is untouched.
    expect((await fetch(url("slide_files/11/0_0.jpeg", tokenFor()))).status).toBe(200);
    // Re-granted later: a new token (past the clock margin) works again.
    const after = tokenFor({ user, issuedAt: Date.now() + 3000 });
    expect((await fetch(url("slide_files/11/0_0.jpeg", after))).status).toBe(200);
  });

  it("a tile whose object vanished answers 404", async () => {
    await fixture.store.delete(`tiles/${slideId}/${version}/slide_files/11/1_0.jpeg`);
    expect((await fetch(url("slide_files/11/1_0.jpeg", tokenFor()))).status).toBe(404);
  });
});

describe("slides served on demand from their source (the engine)", () => {
  const onDemand = async (bytes: Buffer) => {
    const slide = await fixture.addSlide({ sourceKey: `sources/${randomUUID()}.tif`, tilesPrefix: "pending/x/y" });
    await fixture.store.put(slide.sourceKey!, bytes);
    const prefix = `pyramid/${slide.id}/e1e2e3`;
    await fixture.handle.db.update(schema.slides).set({ tilesPrefix: prefix }).where(eq(schema.slides.id, slide.id));
    const token = tokenFor({ slide: slide.id, v: "e1e2e3" });
    return (path: string) => fetch(`${base}/tiles/${slide.id}/e1e2e3/${path}?t=${token}`);
  };

  it("serves the descriptor in the source's tile geometry, stored tiles passed through and the other levels computed", async () => {
    const tiff = writeTestTiff(pyramidImages(1024, 768, 256, 1, { compression: "jpeg" }));
    const get = await onDemand(tiff.bytes);
    const dzi = await (await get("slide.dzi")).text();
    expect(dzi).toContain('TileSize="256"');
    expect(dzi).toContain('Width="1024"');
    const top = await get("slide_files/10/1_1.jpeg");
    expect(top.status).toBe(200);
    expect(top.headers.get("cache-control")).toContain("immutable");
    for (const path of ["slide_files/9/0_0.jpeg", "slide_files/8/0_0.jpeg", "slide_files/0/0_0.jpeg"]) {
      const computed = await get(path);
      expect(computed.status, path).toBe(200);
      expect(Buffer.from(await computed.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    }
    expect((await get("slide_files/10/4_0.jpeg")).status).toBe(404); // one column past the edge
    expect((await get("slide_files/11/0_0.jpeg")).status).toBe(404); // one level past the top
  });

  it("a damaged source tile answers 422 with one line; the service carries on", async () => {
    const tiff = writeTestTiff(pyramidImages(1024, 768, 256, 1, { compression: "jpeg" }));
    const damaged = Buffer.from(tiff.bytes);
    // The tiles lie before the directory (at the end): zero a stretch of them in the middle.
    damaged.fill(0, Math.floor(damaged.length / 2) - 40_000, Math.floor(damaged.length / 2));
    const get = await onDemand(damaged);
    const answers = await Promise.all(
      ["0_0", "1_0", "0_1", "1_1"].map(async (at) => {
        const response = await get(`slide_files/9/${at}.jpeg`);
        return [response.status, await response.text()] as const;
      }),
    );
    const statuses = answers.map(([status]) => status);
    expect(statuses).toContain(422);
    expect(statuses.every((status) => status === 200 || status === 422)).toBe(true);
    expect(answers.find(([status]) => status === 422)![1]).toBe("This part of the slide is damaged in the scanner's file and cannot be shown.\n");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("a source object that vanished answers 404", async () => {
    const tiff = writeTestTiff(pyramidImages(1024, 768, 256, 1, { compression: "jpeg" }));
    const slide = await fixture.addSlide({ sourceKey: "sources/gone.tif", tilesPrefix: "pyramid/x/gone1" });
    await fixture.store.put("sources/gone.tif", tiff.bytes);
    await fixture.handle.db
      .update(schema.slides)
      .set({ tilesPrefix: `pyramid/${slide.id}/gone1` })
      .where(eq(schema.slides.id, slide.id));
    await fixture.store.delete("sources/gone.tif");
    const response = await fetch(`${base}/tiles/${slide.id}/gone1/slide_files/10/0_0.jpeg?t=${tokenFor({ slide: slide.id, v: "gone1" })}`);
    expect(response.status).toBe(404);
  });
});

describe("a slow or failing object store", () => {
  it("answers 503 by the deadline, never hangs, and keeps serving once the store answers", async () => {
    let hang = true;
    const hanging: ObjectStore = {
      ...fixture.store,
      get: (key, range) => (hang ? new Promise(() => {}) : fixture.store.get(key, range)),
    };
    const slow = await startTileService({
      settings: testSettings({ TILE_TIMEOUT_MS: 500, TILE_CONCURRENCY: 2, TILE_QUEUE_LIMIT: 2 }),
      handle: fixture.handle,
      store: hanging,
      log: () => {},
    });
    try {
      const at = `http://127.0.0.1:${slow.port}/tiles/${slideId}/${version}`;
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => fetch(`${at}/slide_files/11/0_0.jpeg?t=${tokenFor()}`).then(async (r) => [r.status, await r.text()] as const)),
      );
      expect(Date.now() - started).toBeLessThan(3000);
      expect(answers.every(([s]) => s === 503)).toBe(true);
      expect(answers[0]![1]).toMatch(/^The slide store is slow or unavailable right now; try again in a moment\.\n$/);
      expect((await fetch(`http://127.0.0.1:${slow.port}/healthz`)).status).toBe(200);
      hang = false;
      expect((await fetch(`${at}/slide_files/11/0_0.jpeg?t=${tokenFor()}`)).status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});
