import { createHash, randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeUpload, receiveChunk, startUpload } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { signTileToken } from "@pathx/tile-token";
import { startTileService } from "@pathx/tiles";
import { HEADER_BYTES, decodeJpeg, openSlideAt, writeMrxsArchive, writeVmsArchive } from "@pathx/wsi";
import { type WrittenMrxs, type WrittenVms, openslideProperties, openslideRegion, psnr, writeMrxs, writePhilipsTiff, writeVms } from "@pathx/wsi/test-support";
import { isServingKey, originalKeyOf } from "./serving-source";
import { tileSlide } from "./tiling";

const SECRET = "openslide-test-secret-openslide-test";
let handle: DbHandle;
let store: ObjectStore;
let root: string;
let service: Awaited<ReturnType<typeof startTileService>>;
const labs: Record<string, string> = {};
let philipsPath: string;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "worker-openslide-"));
  store = createLocalStore(join(root, "store"));
  // North shares label and macro images with its members; South keeps them off the hub.
  const rows = await handle.db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North Lab", shareLabelMacro: true },
      { slug: "south", name: "South Lab" },
    ])
    .returning();
  Object.assign(labs, { north: rows[0]!.id, south: rows[1]!.id });
  philipsPath = join(root, "philips.tiff");
  await writePhilipsTiff(philipsPath, { width: 1500, height: 1100, levels: 3 });
  service = await startTileService({
    settings: {
      TILES_PORT: 0,
      TILES_HOST: "127.0.0.1",
      TILE_TOKEN_SECRET: SECRET,
      HUB_ORIGIN: "http://hub.test:3000",
      TILE_CACHE_CONTROL: "private",
      TILE_MAX_AGE_SECONDS: 60,
      TILE_OPEN_SLIDES: 4,
      TILE_CACHE_MB: 32,
      TILE_CONCURRENCY: 4,
      TILE_QUEUE_LIMIT: 100,
      TILE_TIMEOUT_MS: 20_000,
      TILE_TOKEN_MAX_SECONDS: 600,
    },
    handle,
    store,
    log: () => {},
  });
});
afterAll(async () => {
  await service?.close();
  await handle?.close();
  await rm(root, { recursive: true, force: true });
});

/** The file sent the way the hub receives every upload: start, chunks, completion. */
async function upload(labId: string, path: string, accessionNumber: string): Promise<{ slideId: string; enqueued: string[] }> {
  const bytes = await readFile(path);
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const state = await startUpload(handle.db, labId, null, {
    fileName: basename(path),
    size: bytes.length,
    sha256: sha(bytes),
    meta: { accessionNumber, block: "A1", stain: "H&E", specimen: "skin" },
    header: bytes.subarray(0, HEADER_BYTES).toString("base64"),
  });
  if (state.kind !== "open") throw new Error(`unexpected ${state.kind}`);
  for (let i = 0; i < state.chunkCount; i++) {
    const chunk = bytes.subarray(i * state.chunkSize, (i + 1) * state.chunkSize);
    await receiveChunk(handle.db, store, labId, state.uploadId, i, chunk, sha(chunk));
  }
  const enqueued: string[] = [];
  const { slideId } = await completeUpload(handle.db, store, async (id) => void enqueued.push(id), labId, state.uploadId);
  return { slideId, enqueued };
}

const slideRow = async (id: string) => (await handle.db.select().from(schema.slides).where(eq(schema.slides.id, id)))[0]!;
const keysUnder = async (prefix: string) => (await store.list(prefix)).map((o) => o.key).sort();

async function fetchTile(slideId: string, version: string, path: string): Promise<Response> {
  const token = signTileToken(SECRET, { slideId, version, userId: randomUUID(), issuedAt: Date.now(), expiresAt: Date.now() + 60_000 });
  return fetch(`http://127.0.0.1:${service.port}/tiles/${slideId}/${version}/${path}?t=${token}`);
}

describe("a slide only OpenSlide reads, received by the hub", () => {
  it("a Philips TIFF is rewritten once for serving, and the tile service serves it as OpenSlide reads it", async () => {
    const { slideId, enqueued } = await upload(labs.north!, philipsPath, "N-1");
    expect(enqueued).toEqual([slideId]);
    // Read by bytes alone it would come out as a generic TIFF: it waits for the job instead.
    const received = await slideRow(slideId);
    expect(received).toMatchObject({ status: "received", tilesPrefix: null });
    const fractions: number[] = [];
    const started = process.cpuUsage();
    const wall = performance.now();
    expect(await tileSlide(handle.db, store, slideId, { onProgress: (f) => fractions.push(f) })).toBe("done");
    const cpu = process.cpuUsage(started);
    console.log(`tiling job: ${(performance.now() - wall).toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} CPU-ms`);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);

    const row = await slideRow(slideId);
    expect(row).toMatchObject({ status: "ready", progress: 1, width: 1500, height: 1100, vendor: "philips", mppX: 0.25, mppY: 0.25 });
    expect(isServingKey(row.sourceKey!)).toBe(true);
    expect(row.labelKey).toBe(`private/${slideId}/label.jpg`);
    // The original stays, byte for byte; with it at most 5 objects: original, serving copy, thumbnail, label (no derived pyramid).
    const original = originalKeyOf(row.sourceKey!);
    expect(
      createHash("sha256")
        .update(await store.get(original))
        .digest("hex"),
    ).toBe(row.sha256);
    const objects = [
      ...(await keysUnder(original.slice(0, original.lastIndexOf("/") + 1))),
      ...(await keysUnder(`pyramid/${slideId}/`)),
      ...(await keysUnder(`private/${slideId}/`)),
    ];
    expect(objects.sort()).toEqual([original, row.sourceKey, row.thumbnailKey, row.labelKey].sort());

    const version = row.tilesPrefix!.split("/").pop()!;
    const dzi = await fetchTile(slideId, version, "slide.dzi");
    expect(dzi.status).toBe(200);
    const dziText = await dzi.text();
    expect(dziText).toContain('Width="1500"');
    expect(dziText).toContain('Height="1100"');
    expect(dziText).toContain('TileSize="512"');
    // Level 11 is full resolution (2^11 ≥ 1500): tile 1_1 covers x 512–1023, y 512–1023.
    const tile = await fetchTile(slideId, version, "slide_files/11/1_1.jpeg");
    expect(tile.status).toBe(200);
    const decoded = await decodeJpeg(Buffer.from(await tile.arrayBuffer()));
    expect([decoded.width, decoded.height]).toEqual([512, 512]);
    expect(psnr(decoded, await openslideRegion(philipsPath, 0, 512, 512, 512, 512))).toBeGreaterThan(32);
    const smallest = await fetchTile(slideId, version, "slide_files/0/0_0.jpeg");
    expect(smallest.status).toBe(200);
  });

  it("a lab that keeps label and macro off the hub: the stored original has no label, and none is stored", async () => {
    const { slideId } = await upload(labs.south!, philipsPath, "S-1");
    expect(await tileSlide(handle.db, store, slideId)).toBe("done");
    const row = await slideRow(slideId);
    expect(row).toMatchObject({ status: "ready", vendor: "philips", labelKey: null, macroKey: null });
    const local = join(root, "south-original.tiff");
    await import("node:fs/promises").then((fs) => store.get(originalKeyOf(row.sourceKey!)).then((b) => fs.writeFile(local, b)));
    const properties = await openslideProperties(local);
    expect(properties["openslide.vendor"]).toBe("philips");
    expect(Object.keys(properties).filter((k) => k.startsWith("openslide.associated.label"))).toEqual([]);
    const slide = await openSlideAt(local);
    expect(slide.metadata.associated).toEqual([]);
    await slide.close();
  });

  it("a job run again on the serving copy keeps the label the first run stored", async () => {
    const [north] = await handle.db.select().from(schema.slides).where(eq(schema.slides.labId, labs.north!));
    await handle.db.update(schema.slides).set({ status: "received" }).where(eq(schema.slides.id, north!.id));
    expect(await tileSlide(handle.db, store, north!.id)).toBe("done");
    const row = await slideRow(north!.id);
    expect(row).toMatchObject({ status: "ready", vendor: "philips", labelKey: `private/${north!.id}/label.jpg`, sourceKey: north!.sourceKey });
  });

  it("a run that stops right after switching to the serving copy loses neither label nor macro: the next run completes with them", async () => {
    const another = join(root, "philips-2.tiff");
    await writePhilipsTiff(another, { width: 1400, height: 1000, levels: 3 });
    const { slideId } = await upload(labs.north!, another, "N-4");
    // The worker's machine goes down at the first write after the switch (the pyramid's objects).
    const crashing: ObjectStore = {
      ...store,
      put: async (key, body, options) => {
        if (key.startsWith("pyramid/")) throw new Error("the worker's machine went down");
        return store.put(key, body, options);
      },
    };
    await expect(tileSlide(handle.db, crashing, slideId)).rejects.toThrow(/went down/);
    const stopped = await slideRow(slideId);
    expect(isServingKey(stopped.sourceKey!)).toBe(true);
    expect(stopped).toMatchObject({ labelKey: `private/${slideId}/label.jpg`, vendor: "philips" });
    expect(await tileSlide(handle.db, store, slideId)).toBe("done");
    const row = await slideRow(slideId);
    expect(row).toMatchObject({ status: "ready", vendor: "philips", mppX: 0.25, labelKey: `private/${slideId}/label.jpg`, sourceKey: stopped.sourceKey });
    expect(await store.head(row.labelKey!)).not.toBeNull();
  });

  describe("an MRXS slide: the .mrxs file and its folder, packed as one archive as the lab's node sends it", () => {
    let mrxs: WrittenMrxs;
    let archive: string;
    beforeAll(async () => {
      mrxs = await writeMrxs(root, "N26-0099", { imagesX: 5, imagesY: 3, levels: 3 });
      archive = join(root, "N26-0099.mrxs.tar");
      await writeMrxsArchive(mrxs.path, archive);
    });

    it("is unpacked and rewritten for serving once; the tile service serves it as OpenSlide reads it", async () => {
      const { slideId } = await upload(labs.north!, archive, "N-2");
      expect(await slideRow(slideId)).toMatchObject({ status: "received", fileName: "N26-0099.mrxs.tar" });
      expect(await tileSlide(handle.db, store, slideId)).toBe("done");
      const row = await slideRow(slideId);
      expect(row).toMatchObject({ status: "ready", width: 1280, height: 768, vendor: "mirax", mppX: 0.25, objectivePower: 20 });
      expect([row.labelKey, row.macroKey]).toEqual([`private/${slideId}/label.jpg`, `private/${slideId}/macro.jpg`]);
      // The archive stays as it came.
      expect(
        createHash("sha256")
          .update(await store.get(originalKeyOf(row.sourceKey!)))
          .digest("hex"),
      ).toBe(row.sha256);
      const version = row.tilesPrefix!.split("/").pop()!;
      const dzi = await (await fetchTile(slideId, version, "slide.dzi")).text();
      expect([dzi.includes('Width="1280"'), dzi.includes('Height="768"')]).toEqual([true, true]);
      const tile = await decodeJpeg(Buffer.from(await (await fetchTile(slideId, version, "slide_files/11/2_1.jpeg")).arrayBuffer()));
      expect([tile.width, tile.height]).toEqual([256, 256]); // edge tile: x 1024–1279, y 512–767
      const inner = await decodeJpeg(Buffer.from(await (await fetchTile(slideId, version, "slide_files/11/1_0.jpeg")).arrayBuffer()));
      expect(psnr(inner, await openslideRegion(mrxs.path, 0, 512, 0, 512, 512))).toBeGreaterThan(30); // the serving copy's tile, as stored
    });

    it("a lab that keeps label and macro off the hub: they are taken out of the archive before it is stored", async () => {
      const { slideId } = await upload(labs.south!, archive, "S-2");
      const stored = (await slideRow(slideId)).sourceKey!;
      expect(await tileSlide(handle.db, store, slideId)).toBe("done");
      const row = await slideRow(slideId);
      expect(row).toMatchObject({ status: "ready", vendor: "mirax", labelKey: null, macroKey: null });
      expect(await store.head(stored)).not.toBeNull(); // nothing left to hide: the stripped archive stays
      // Two JPEGs fewer than the archive sent (label and macro zeroed), the rest byte for byte.
      const jpegs = (bytes: Buffer) => bytes.toString("latin1").split("\xff\xd8\xff").length - 1;
      const kept = await store.get(stored);
      expect(jpegs(kept)).toBe(jpegs(await readFile(archive)) - 2);
      expect(kept.toString("latin1")).toContain("ScanDataLayer_SlideBarcode_RemovedByPathx");
    });

    it("a file that only claims to be an MRXS archive is refused before upload, in one line", async () => {
      const fake = join(root, "fake.mrxs.tar");
      await import("node:fs/promises").then((fs) => fs.writeFile(fake, Buffer.alloc(4096, 1)));
      await expect(upload(labs.north!, fake, "N-3")).rejects.toThrow(
        /^fake\.mrxs\.tar cannot be taken: not an MRXS or VMS slide archive; publish such slides with the lab's node/,
      );
    });
  });

  describe("a Hamamatsu VMS slide: the .vms file and the JPEGs it names, packed as one archive as the lab's node sends it", () => {
    let vms: WrittenVms;
    let archive: string;
    beforeAll(async () => {
      await mkdir(join(root, "vms"));
      vms = await writeVms(join(root, "vms"), { name: "N26-0100", columns: 2, rows: 2, imageWidth: 512, imageHeight: 384, micronsPerPixel: 0.23 });
      archive = join(root, "N26-0100.vms.tar");
      await writeVmsArchive(vms.path, archive);
    });

    it("is unpacked and rewritten for serving once; the tile service serves it as OpenSlide reads it", async () => {
      const { slideId } = await upload(labs.north!, archive, "N-4");
      expect(await slideRow(slideId)).toMatchObject({ status: "received", fileName: "N26-0100.vms.tar" });
      expect(await tileSlide(handle.db, store, slideId)).toBe("done");
      const row = await slideRow(slideId);
      expect(row).toMatchObject({
        status: "ready",
        width: 1024,
        height: 768,
        vendor: "hamamatsu",
        objectivePower: 20,
        macroKey: `private/${slideId}/macro.jpg`,
      });
      expect(row.mppX).toBeCloseTo(0.23, 6);
      const version = row.tilesPrefix!.split("/").pop()!;
      const dzi = await (await fetchTile(slideId, version, "slide.dzi")).text();
      expect([dzi.includes('Width="1024"'), dzi.includes('Height="768"')]).toEqual([true, true]);
      // The serving copy keeps OpenSlide's 512-pixel tiles: the tile spans the four JPEGs' corner.
      const inner = await decodeJpeg(Buffer.from(await (await fetchTile(slideId, version, "slide_files/10/0_0.jpeg")).arrayBuffer()));
      expect([inner.width, inner.height]).toEqual([512, 512]);
      expect(psnr(inner, await openslideRegion(vms.path, 0, 0, 0, 512, 512))).toBeGreaterThan(30);
    });

    it("a lab that keeps the macro off the hub: it is taken out of the archive before it is stored", async () => {
      const { slideId } = await upload(labs.south!, archive, "S-4");
      const stored = (await slideRow(slideId)).sourceKey!;
      expect(await tileSlide(handle.db, store, slideId)).toBe("done");
      expect(await slideRow(slideId)).toMatchObject({ status: "ready", vendor: "hamamatsu", labelKey: null, macroKey: null });
      const kept = (await store.get(stored)).toString("latin1");
      expect([kept.includes("N26-0100_macro.jpg"), kept.includes("MacroImage")]).toEqual([false, false]);
      expect(kept).toContain("N26-0100_map2.jpg");
    });
  });
});
