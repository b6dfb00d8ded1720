import { describe, expect, it } from "vitest";
import { decodeJpeg, encodeJpeg, useBlockingCodecs } from "./jpeg";
import { psnr } from "../test-support/pixels";
import { decodeJpegScaledInto, encodeHalvedYcc420, hasScaledJpegDecode, isYcc420, readJpegSize } from "./turbojpeg";

const side = 64;
const gradient = Buffer.alloc(side * side * 3);
for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) gradient.set([x * 4, y * 4, 128], (y * side + x) * 3);

describe("libturbojpeg (reduced-scale decode)", () => {
  it("decodes at half size into a region of a larger buffer, leaving the rest alone", async () => {
    expect(hasScaledJpegDecode(), "libturbojpeg.so.0 (Debian libturbojpeg0) is needed: scripts/test.sh installs it").toBe(true);
    const jpeg = await encodeJpeg({ width: side, height: side, data: gradient }, 95);
    expect(readJpegSize(jpeg)).toEqual({ width: side, height: side });
    const full = await decodeJpeg(jpeg);
    const out = Buffer.alloc(side * side * 3, 7); // a 64 × 64 image; the half-size decode fills its top-right quarter
    await decodeJpegScaledInto(jpeg, 2, out, (side / 2) * 3, side * 3, { width: side, height: side });
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const at = (y * side + x) * 3;
        if (y >= side / 2 || x < side / 2) {
          expect(out[at]).toBe(7);
          continue;
        }
        // Each pixel is about the mean of its 2 × 2 block at full size.
        const [fx, fy] = [2 * (x - side / 2), 2 * y];
        const mean = (c: number) =>
          [0, 1, side, side + 1].reduce((s, d) => s + full.data[((fy + (d >= side ? 1 : 0)) * side + fx + (d % side)) * 3 + c]!, 0) / 4;
        for (let c = 0; c < 3; c++) expect(Math.abs(out[at + c]! - mean(c))).toBeLessThanOrEqual(6);
      }
    }
  });

  it("decodes the same pixels on this thread (useBlockingCodecs) as on the thread pool, and reports damage the same way", async () => {
    const jpeg = await encodeJpeg({ width: side, height: side, data: gradient }, 85);
    const pooled = Buffer.alloc(side * side * 3, 7);
    await decodeJpegScaledInto(jpeg, 2, pooled, side * 3 * (side / 2), side * 3, { width: side, height: side });
    useBlockingCodecs(true);
    try {
      const here = Buffer.alloc(side * side * 3, 7);
      await decodeJpegScaledInto(jpeg, 2, here, side * 3 * (side / 2), side * 3, { width: side, height: side });
      expect(here.equals(pooled)).toBe(true);
      expect(here.subarray(0, side * 3 * (side / 2)).every((v) => v === 7)).toBe(true);
      await expect(decodeJpegScaledInto(jpeg.subarray(0, jpeg.length >> 1), 2, here, 0, side * 3, { width: side, height: side })).rejects.toMatchObject({
        code: "CORRUPT",
      });
    } finally {
      useBlockingCodecs(false);
    }
  });

  it("answers CORRUPT for damaged data, and refuses a region that does not fit", async () => {
    const jpeg = await encodeJpeg({ width: side, height: side, data: gradient }, 80);
    const truncated = jpeg.subarray(0, jpeg.length >> 1);
    await expect(decodeJpegScaledInto(truncated, 2, Buffer.alloc(32 * 32 * 3), 0, 32 * 3, { width: side, height: side })).rejects.toMatchObject({
      code: "CORRUPT",
    });
    for (const damaged of [Buffer.from([0xff, 0xd8, 0xff, 0xd9]), Buffer.from([1, 2, 3, 4, 5, 6]), jpeg.subarray(0, 40)]) {
      expect(() => readJpegSize(damaged)).toThrow(expect.objectContaining({ code: "CORRUPT" }));
    }
    await expect(decodeJpegScaledInto(jpeg, 2, Buffer.alloc(16), 0, 32 * 3, { width: side, height: side })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });

  it("makes one 4:2:0 JPEG of four 4:2:0 tiles halved in YCbCr (no colour conversion), as the RGB way would within JPEG's error", async () => {
    const pattern = (k: number) => {
      const data = Buffer.alloc(side * side * 3);
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) data.set([(x * 4 + k * 50) & 255, (y * 3 + k * 20) & 255, ((x ^ y) * 2) & 255], (y * side + x) * 3);
      return data;
    };
    const tiles = await Promise.all([0, 1, 2, 3].map((k) => encodeJpeg({ width: side, height: side, data: pattern(k) }, 85)));
    expect(tiles.every(isYcc420)).toBe(true);
    expect(isYcc420(await encodeJpeg({ width: side, height: side, data: gradient }, 95))).toBe(false); // 4:4:4
    const half = side / 2;
    const places = tiles.map((jpeg, k) => ({ jpeg, x: (k % 2) * half, y: (k >> 1) * half, width: half, height: half }));
    expect(encodeHalvedYcc420(places, side, side, 80), "only on this thread").toBeUndefined();
    const rgb = Buffer.alloc(side * side * 3);
    for (const p of places) await decodeJpegScaledInto(p.jpeg, 2, rgb, (p.y * side + p.x) * 3, side * 3, { width: side, height: side });
    useBlockingCodecs(true);
    try {
      expect(encodeHalvedYcc420(places, side, side, 95), "4:4:4 output").toBeUndefined();
      const jpeg = encodeHalvedYcc420(places, side, side, 80)!;
      expect(readJpegSize(jpeg)).toEqual({ width: side, height: side });
      expect(isYcc420(jpeg)).toBe(true);
      // Each JPEG is memory of its own: the next encode reuses the library's output buffer, not this.
      const kept = Buffer.from(jpeg);
      const other = encodeHalvedYcc420(
        [...places].reverse().map((p, k) => ({ ...p, x: places[k]!.x, y: places[k]!.y })),
        side,
        side,
        60,
      )!;
      expect(Buffer.compare(other, kept)).not.toBe(0);
      expect(Buffer.compare(jpeg, kept)).toBe(0);
      const viaRgb = await decodeJpeg(await encodeJpeg({ width: side, height: side, data: rgb }, 80));
      expect(psnr(await decodeJpeg(jpeg), viaRgb)).toBeGreaterThanOrEqual(30);
      expect(psnr(await decodeJpeg(jpeg), { width: side, height: side, data: rgb })).toBeGreaterThanOrEqual(25);
      expect(() => encodeHalvedYcc420([{ ...places[0]!, jpeg: tiles[0]!.subarray(0, tiles[0]!.length >> 1) }], side, side, 80)).toThrow(
        expect.objectContaining({ code: "CORRUPT" }),
      );
    } finally {
      useBlockingCodecs(false);
    }
  });
});
