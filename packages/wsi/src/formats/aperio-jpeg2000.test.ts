import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadJpeg2000Encoder } from "../codec/jpeg2000";
import { openSlideAt } from "../slide";
import { openslideProperties, openslideRegion, readSlideRegion } from "../test-support/openslide-check";
import { psnr, renderRegion } from "../test-support/pixels";
import { pyramidImages, tissuePixel, writeTestTiff } from "../test-support/tiff-writer";

const work = await mkdtemp(join(tmpdir(), "wsi-j2k-"));
afterAll(() => rm(work, { recursive: true, force: true }));

/** An Aperio SVS whose tiles are JPEG 2000 codestreams, as ScanScope writes with J2K compression. */
async function writeJpeg2000Svs(path: string, compression: 33003 | 33005) {
  const encode = await loadJpeg2000Encoder();
  const codec = {
    compression,
    photometric: 2,
    encode: (raw: Buffer, width: number, height: number) => Buffer.from(encode({ width, height, data: raw }, { ratio: 10, ycbcr: compression === 33003 })),
  };
  const levels = pyramidImages(1500, 1100, 240, 2, { codec });
  levels[0]!.description = `Aperio Image Library v12.0.15\r\n1500x1100 [0,0 1500x1100] (240x240) J2K/${compression === 33003 ? "YUV16" : "RGB"} Q=70|AppMag = 20|MPP = 0.4990`;
  levels[1]!.description = "Aperio Image Library v12.0.15\r\n1500x1100 -> 750x550 - ";
  await writeFile(path, writeTestTiff(levels).bytes);
}

describe("Aperio SVS with JPEG 2000 tiles", () => {
  for (const compression of [33003, 33005] as const) {
    it(`${compression}: levels, pixels as OpenSlide shows them and as written`, async () => {
      const path = join(work, `j2k-${compression}.svs`);
      await writeJpeg2000Svs(path, compression);
      const theirs = await openslideProperties(path);
      const slide = await openSlideAt(path);
      expect(slide.metadata).toMatchObject({ format: "aperio-svs", width: 1500, height: 1100, mppX: 0.499 });
      expect(slide.metadata.levels.map((l) => [l.width, l.height, l.compression])).toEqual([
        [1500, 1100, "jpeg2000"],
        [750, 550, "jpeg2000"],
      ]);
      expect(theirs["openslide.level[1].width"]).toBe("750");
      for (const [level, x, y, w, h] of [
        [0, 200, 300, 500, 400],
        [1, 500, 400, 250, 150],
      ] as const) {
        const ours = await readSlideRegion(slide, level, x, y, w, h);
        const scale = 2 ** level;
        expect(psnr(ours, await openslideRegion(path, level, x * scale, y * scale, w, h))).toBeGreaterThan(38);
        expect(
          psnr(
            ours,
            renderRegion((px, py) => tissuePixel(px * scale, py * scale), x, y, w, h),
          ),
        ).toBeGreaterThan(30);
      }
      const raw = await slide.readRawTile(0, 1, 1);
      expect(raw.kind).toBe("other"); // browsers do not show JPEG 2000: tiles are re-encoded
      await slide.close();
    });
  }
});
