import { describe, expect, it } from "vitest";
import { renderRegion, psnr } from "../test-support/pixels";
import { tissuePixel } from "../test-support/tiff-writer";
import { decodeJpeg2000, encodeJpeg2000 } from "./jpeg2000";

const tile = renderRegion(tissuePixel, 0, 0, 256, 192);

describe("JPEG 2000 codec (OpenJPEG, WebAssembly)", () => {
  it("round-trips RGB (colour transform in the codestream)", async () => {
    const encoded = await encodeJpeg2000(tile, { ratio: 8 });
    expect([...encoded.subarray(0, 4)]).toEqual([0xff, 0x4f, 0xff, 0x51]); // SOC, SIZ: a bare codestream
    const decoded = await decodeJpeg2000(encoded, { colour: "rgb" });
    expect([decoded.width, decoded.height]).toEqual([256, 192]);
    expect(psnr(decoded, tile)).toBeGreaterThan(35);
  });

  it("converts a YCbCr codestream without colour transform (Aperio 33003) to RGB", async () => {
    const encoded = await encodeJpeg2000(tile, { ratio: 8, ycbcr: true });
    const asStored = await decodeJpeg2000(encoded, { colour: "rgb" });
    expect(psnr(asStored, tile)).toBeLessThan(20); // the planes are Y, Cb, Cr: not a picture as they are
    expect(psnr(await decodeJpeg2000(encoded, { colour: "ycbcr" }), tile)).toBeGreaterThan(35);
  });

  it("decodes at reduced resolution", async () => {
    const half = await decodeJpeg2000(await encodeJpeg2000(tile), { colour: "rgb", reduce: 1 });
    expect([half.width, half.height]).toEqual([128, 96]);
    expect(psnr(half, renderRegion(tissuePixel, 0, 0, 128, 96, 2))).toBeGreaterThan(25);
  });

  it("damaged data: a clear error, and the next tile still decodes", async () => {
    const encoded = await encodeJpeg2000(tile);
    await expect(decodeJpeg2000(encoded.subarray(0, 60), { colour: "rgb" })).rejects.toMatchObject({ name: "WsiError", code: "CORRUPT" });
    await expect(decodeJpeg2000(Buffer.from("not jpeg 2000 at all"), { colour: "rgb" })).rejects.toMatchObject({ code: "CORRUPT" });
    expect((await decodeJpeg2000(encoded, { colour: "rgb" })).width).toBe(256);
  });
});
