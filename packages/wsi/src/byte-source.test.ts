import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBlockingFileSource, openFileSource, openHttpRangeSource } from "./byte-source";
import { openSlide } from "./slide";
import { fixturePath } from "./test-support/fixtures";

const fixture = fixturePath("CMU-1-Small-Region.svs");
let server: Server;
let base = "";
const ranges: string[] = [];

// A plain HTTP object server on loopback that honours Range, as S3 does for presigned GETs.
beforeAll(async () => {
  const bytes = await readFile(fixture);
  server = createServer((req, res) => {
    if (req.url !== "/slides/cmu.svs") return res.writeHead(404).end();
    if (req.method === "HEAD") return res.writeHead(200, { "content-length": bytes.length }).end();
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    if (!range) return res.writeHead(200, { "content-length": bytes.length }).end(bytes);
    ranges.push(req.headers.range!);
    const [start, end] = [Number(range[1]), Number(range[2])];
    res.writeHead(206, { "content-range": `bytes ${start}-${end}/${bytes.length}`, "content-length": end - start + 1 }).end(bytes.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("HTTP range byte source", () => {
  it("opens a slide and reads a tile with ranged GETs only", async () => {
    const slide = await openSlide(await openHttpRangeSource(`${base}/slides/cmu.svs`));
    expect(slide.metadata).toMatchObject({ name: "cmu.svs", width: 2220, height: 2967 });
    const tile = await slide.readTile(0, 2, 2);
    expect(tile.width).toBe(240);
    expect(ranges.length).toBeGreaterThan(3);
    expect(ranges.every((r) => /^bytes=\d+-\d+$/.test(r))).toBe(true);
  });

  it("says clearly when the object does not exist", async () => {
    await expect(openHttpRangeSource(`${base}/slides/none.svs`)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("blocking file source", () => {
  it("answers small reads through its window with the same bytes, each its own copy, and refuses the same ranges", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pathx-blocking-source-"));
    try {
      const bytes = Buffer.alloc(50_000);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 8)) & 255;
      const path = join(dir, "f.bin");
      await writeFile(path, bytes);
      const blocking = await openBlockingFileSource(path);
      const plain = await openFileSource(path);
      // Inside one window, across its edge, near the end of the file, large, and empty.
      for (const [offset, length] of [
        [0, 4],
        [2, 1024],
        [16_380, 10],
        [100, 4096],
        [49_990, 10],
        [20_000, 8000],
        [30_000, 0],
        [16_383, 2],
      ] as const) {
        expect(Buffer.from(await blocking.read(offset, length))).toEqual(Buffer.from(await plain.read(offset, length)));
      }
      const first = await blocking.read(10, 4);
      first.fill(0);
      expect(Buffer.from(await blocking.read(10, 4))).toEqual(bytes.subarray(10, 14));
      await expect(blocking.read(49_998, 4)).rejects.toMatchObject({ code: "TRUNCATED" });
      await expect(blocking.read(-1, 4)).rejects.toMatchObject({ code: "CORRUPT" });
      await expect(blocking.read(Number.NaN, 4)).rejects.toMatchObject({ code: "CORRUPT" });
      await blocking.close();
      await plain.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
