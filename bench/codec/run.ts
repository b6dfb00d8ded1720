import jpegTurbo from "@julusian/jpeg-turbo";
import jpegJs from "jpeg-js";
import sharp from "sharp";
import { decodeJpeg2000, encodeJpeg2000, openFileSource, openSlide } from "@pathx/wsi";
import { fixturePath } from "@pathx/wsi/test-support";

// bench/codec: per-tile JPEG decode and encode cost of the codecs Node can have from npm, on
// real 240 px Aperio tiles. Decides the slide engine's codec (packages/wsi/src/codec/jpeg.ts).
const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
const tiles: Buffer[] = [];
for (let row = 3; row < 9; row++) for (let col = 2; col < 8; col++) tiles.push(Buffer.from((await slide.readRawTile(0, col, row)).bytes));
const size = 240;
const raw = jpegTurbo.decompressSync(tiles[0]!, { format: jpegTurbo.FORMAT_RGB }).data;
const rgba = Buffer.alloc(size * size * 4);
for (let i = 0; i < size * size; i++) raw.copy(rgba, i * 4, i * 3, i * 3 + 3);

async function measure(name: string, count: number, run: (i: number) => unknown): Promise<number> {
  const started = performance.now();
  const inFlight: unknown[] = [];
  for (let i = 0; i < count; i++) {
    inFlight.push(run(i));
    if (inFlight.length >= 8) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  const ms = (performance.now() - started) / count;
  console.log(`${name.padEnd(40)} ${ms.toFixed(3)} ms/tile  ${((size * size) / 1e3 / ms).toFixed(0)} MP/s`);
  return ms;
}

const n = 3000;
const results = {
  "libjpeg-turbo (@julusian/jpeg-turbo) decode": await measure("libjpeg-turbo decode (async, pool)", n, (i) =>
    jpegTurbo.decompress(tiles[i % tiles.length]!, { format: jpegTurbo.FORMAT_RGB }),
  ),
  "libjpeg-turbo encode": await measure("libjpeg-turbo encode Q75 (async, pool)", n, () =>
    jpegTurbo.compress(raw, { format: jpegTurbo.FORMAT_RGB, width: size, height: size, quality: 75, subsampling: jpegTurbo.SAMP_420 }),
  ),
  "sharp decode": await measure("sharp (libvips) decode", n / 3, (i) =>
    sharp(tiles[i % tiles.length]!)
      .raw()
      .toBuffer(),
  ),
  "sharp encode": await measure("sharp (libvips) encode Q75", n / 3, () =>
    sharp(raw, { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 75 })
      .toBuffer(),
  ),
  "jpeg-js decode": await measure("jpeg-js (pure JS) decode", 100, (i) => jpegJs.decode(tiles[i % tiles.length]!)),
  "jpeg-js encode": await measure("jpeg-js (pure JS) encode Q75", 30, () => jpegJs.encode({ data: rgba, width: size, height: size }, 75)),
};
const best = results["libjpeg-turbo (@julusian/jpeg-turbo) decode"] + results["libjpeg-turbo encode"];
console.log(
  `decode+encode per tile: libjpeg-turbo ${best.toFixed(3)} ms, sharp ${(results["sharp decode"] + results["sharp encode"]).toFixed(3)} ms, jpeg-js ${(results["jpeg-js decode"] + results["jpeg-js encode"]).toFixed(3)} ms`,
);

// JPEG 2000 (Aperio 33003/33005, DICOM frames): OpenJPEG as WebAssembly, synchronous per tile.
const j2kTiles = await Promise.all(
  tiles.slice(0, 8).map(async (jpeg) => encodeJpeg2000(jpegTurbo.decompressSync(jpeg, { format: jpegTurbo.FORMAT_RGB }) as never, { ratio: 10 })),
);
const j2k = await measure("JPEG 2000 decode (OpenJPEG wasm)", 60, (i) => decodeJpeg2000(j2kTiles[i % j2kTiles.length]!, { colour: "rgb" }));
const j2kYcc = await measure("JPEG 2000 decode YCbCr→RGB (33003)", 60, (i) => decodeJpeg2000(j2kTiles[i % j2kTiles.length]!, { colour: "ycbcr" }));
const j2kHalf = await measure("JPEG 2000 decode at half resolution", 60, (i) => decodeJpeg2000(j2kTiles[i % j2kTiles.length]!, { colour: "rgb", reduce: 1 }));
console.log(
  `JPEG 2000 per ${size} px tile: ${j2k.toFixed(1)} ms (33003 ${j2kYcc.toFixed(1)} ms, half resolution ${j2kHalf.toFixed(1)} ms) vs libjpeg-turbo ${results["libjpeg-turbo (@julusian/jpeg-turbo) decode"].toFixed(2)} ms`,
);
await slide.close();
