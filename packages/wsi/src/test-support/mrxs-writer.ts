import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeJpeg } from "../codec/jpeg";
import type { RgbImage } from "../image";
import { tissuePixel } from "./tiff-writer";

export interface MrxsOptions {
  /** Camera images across and down at level 0 (each one image, CameraImageDivisionsPerSide 1). */
  imagesX: number;
  imagesY: number;
  /** Zoom levels, each half the one above (IMAGE_CONCAT_FACTOR 1); at least 2. */
  levels: number;
  /** Side of every stored image in pixels, at every level; default 256. */
  imageSize?: number;
  micronsPerPixel?: number;
  /** Write label (barcode), macro (slide thumbnail) and preview images; default true. */
  associated?: boolean;
}

export interface WrittenMrxs {
  /** The .mrxs file; its data folder is beside it, named like it without the extension. */
  path: string;
  folder: string;
  width: number;
  height: number;
  /** Level sizes as OpenSlide computes them (level 0 size / 2^level, rounded down). */
  levels: { width: number; height: number }[];
  /** A level pixel's colour: level-0 tissue sampled every 2^level pixels, white beyond the scan. */
  pixel(level: number, x: number, y: number): [number, number, number];
}

const INDEX_VERSION = "01.02";
const labelColour: [number, number, number] = [40, 90, 200];

/**
 * A 3DHISTECH MIRAX slide as OpenSlide 3.4.1 reads it (src/openslide-vendor-mirax.c): the
 * `.mrxs` file, and beside it a folder of the same name holding
 * - Slidedat.ini: [GENERAL] (SLIDE_ID, IMAGENUMBER_X/Y, OBJECTIVE_MAGNIFICATION,
 *   CameraImageDivisionsPerSide), [HIERARCHICAL] with "Slide zoom level" as HIER_0 (one section
 *   per level: DIGITIZER_WIDTH/HEIGHT, IMAGE_CONCAT_FACTOR 0 then 1, OVERLAP, MPP, JPEG, fill
 *   colour) and the non-hierarchical records: VIMSLIDE_POSITION_BUFFER, then the "Scan data
 *   layer" values SlideThumbnail (macro), SlideBarcode (label), SlidePreview (thumbnail);
 *   [DATAFILE] naming Data0000.dat;
 * - Index.dat: "01.02" + SLIDE_ID, then the hier root pointer (a table of one pointer per zoom
 *   level → [0, page] → page: count, next 0, then image index, offset, length, file number per
 *   image) and the non-hier root pointer (a table of one pointer per record → [0, page] → page:
 *   1, 0, 0, 0, offset, size, file number);
 * - Data0000.dat: the JPEG images and the position buffer (9 bytes per camera position: flag,
 *   x, y as little-endian int32, uncompressed).
 * Level k stores one image per 2^k × 2^k camera images (indices multiples of 2^k), each
 * `imageSize` square: the images it covers halved k times; beyond the scanned area white.
 */
export async function writeMrxs(dir: string, name: string, options: MrxsOptions): Promise<WrittenMrxs> {
  const size = options.imageSize ?? 256;
  const { imagesX, imagesY, levels } = options;
  if (levels < 2 || size % 2 ** (levels - 1) !== 0) throw new Error("writeMrxs: at least 2 levels, and the image size divisible by 2^(levels − 1)");
  const mpp = options.micronsPerPixel ?? 0.25;
  const width = imagesX * size;
  const height = imagesY * size;
  const folder = join(dir, name);
  const path = join(dir, `${name}.mrxs`);
  const slideId = randomBytes(16).toString("hex");
  const pixel = (level: number, x: number, y: number): [number, number, number] => {
    const x0 = x * 2 ** level;
    const y0 = y * 2 ** level;
    return x0 < width && y0 < height ? tissuePixel(x0, y0) : [255, 255, 255];
  };
  const render = (w: number, h: number, at: (x: number, y: number) => [number, number, number]): RgbImage => {
    const data = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(at(x, y), (y * w + x) * 3);
    return { width: w, height: h, data };
  };

  // Data0000.dat: a small header, then every image and record back to back.
  const data: Buffer[] = [Buffer.from(`${INDEX_VERSION}${slideId}`, "latin1")];
  let dataLength = data[0]!.length;
  const append = (bytes: Uint8Array) => {
    const offset = dataLength;
    data.push(Buffer.from(bytes));
    dataLength += bytes.length;
    return { offset, length: bytes.length };
  };
  const levelImages: { index: number; offset: number; length: number }[][] = [];
  for (let level = 0; level < levels; level++) {
    const concat = 2 ** level;
    const images: { index: number; offset: number; length: number }[] = [];
    for (let y = 0; y < imagesY; y += concat) {
      for (let x = 0; x < imagesX; x += concat) {
        const left = (x * size) / concat;
        const top = (y * size) / concat;
        const jpeg = await encodeJpeg(
          render(size, size, (px, py) => pixel(level, left + px, top + py)),
          90,
        );
        images.push({ index: y * imagesX + x, ...append(jpeg) });
      }
    }
    levelImages.push(images);
  }
  const positions = Buffer.alloc(9 * imagesX * imagesY);
  for (let i = 0; i < imagesX * imagesY; i++) {
    positions[i * 9] = 1;
    positions.writeInt32LE((i % imagesX) * size, i * 9 + 1);
    positions.writeInt32LE(Math.floor(i / imagesX) * size, i * 9 + 5);
  }
  const records = [append(positions)];
  if (options.associated ?? true) {
    const macro = await encodeJpeg(
      render(600, 200, (x, y) => (x < 150 ? labelColour : tissuePixel(x * 4, y * 4))),
      90,
    );
    const label = await encodeJpeg(
      render(200, 200, (_x, y) => (y < 100 ? labelColour : [250, 250, 250])),
      90,
    );
    const preview = await encodeJpeg(
      render(300, 120, (x, y) => tissuePixel(x * 8, y * 8)),
      90,
    );
    records.push(append(macro), append(label), append(preview));
  }

  // Index.dat: header, the two root pointers, then tables and pages after them.
  const index: number[] = [];
  const header = Buffer.from(`${INDEX_VERSION}${slideId}`, "latin1");
  const base = header.length + 8; // int32s start after the header and the two root pointers
  const at = () => base + index.length * 4;
  const hierTable = at();
  index.push(...new Array<number>(levels).fill(0));
  levelImages.forEach((images, level) => {
    index[level] = at();
    const head = index.length;
    index.push(0, 0);
    index[head + 1] = at();
    index.push(images.length, 0);
    for (const image of images) index.push(image.index, image.offset, image.length, 0);
  });
  const nonhierTable = at();
  const tableStart = index.length;
  index.push(...new Array<number>(records.length).fill(0));
  records.forEach((record, i) => {
    index[tableStart + i] = at();
    const head = index.length;
    index.push(0, 0);
    index[head + 1] = at();
    index.push(1, 0, 0, 0, record.offset, record.length, 0);
  });
  const ints = Buffer.alloc(8 + index.length * 4);
  ints.writeInt32LE(hierTable, 0);
  ints.writeInt32LE(nonhierTable, 4);
  for (const [i, value] of index.entries()) ints.writeInt32LE(value, 8 + i * 4);

  const ini: string[] = [
    "[GENERAL]",
    "SLIDE_VERSION=01.02",
    `SLIDE_ID=${slideId}`,
    "SLIDE_NAME=pathx test slide",
    `IMAGENUMBER_X=${imagesX}`,
    `IMAGENUMBER_Y=${imagesY}`,
    "OBJECTIVE_MAGNIFICATION=20",
    "CameraImageDivisionsPerSide=1",
    "",
    "[HIERARCHICAL]",
    "HIER_COUNT=1",
    `NONHIER_COUNT=${records.length > 1 ? 2 : 1}`,
    "INDEXFILE=Index.dat",
    "HIER_0_NAME=Slide zoom level",
    `HIER_0_COUNT=${levels}`,
    ...Array.from({ length: levels }, (_, i) => [`HIER_0_VAL_${i}=ZoomLevel_${i}`, `HIER_0_VAL_${i}_SECTION=LAYER_0_LEVEL_${i}_SECTION`]).flat(),
    "NONHIER_0_NAME=VIMSLIDE_POSITION_BUFFER",
    "NONHIER_0_COUNT=1",
    "NONHIER_0_VAL_0=default",
    "NONHIER_0_VAL_0_SECTION=NONHIER_0_VAL_0_SECTION",
  ];
  if (records.length > 1) {
    ini.push(
      "NONHIER_1_NAME=Scan data layer",
      "NONHIER_1_COUNT=3",
      "NONHIER_1_VAL_0=ScanDataLayer_SlideThumbnail",
      "NONHIER_1_VAL_0_SECTION=NONHIER_1_VAL_0_SECTION",
      "NONHIER_1_VAL_1=ScanDataLayer_SlideBarcode",
      "NONHIER_1_VAL_1_SECTION=NONHIER_1_VAL_1_SECTION",
      "NONHIER_1_VAL_2=ScanDataLayer_SlidePreview",
      "NONHIER_1_VAL_2_SECTION=NONHIER_1_VAL_2_SECTION",
      "",
      "[NONHIER_1_VAL_0_SECTION]",
      "THUMBNAIL_IMAGE_TYPE=JPEG",
      "",
      "[NONHIER_1_VAL_1_SECTION]",
      "BARCODE_IMAGE_TYPE=JPEG",
      "",
      "[NONHIER_1_VAL_2_SECTION]",
      "PREVIEW_IMAGE_TYPE=JPEG",
    );
  }
  ini.push("", "[NONHIER_0_VAL_0_SECTION]", "VIMSLIDE_POSITION_DATA_TYPE=VIMSLIDE_POSITION_BUFFER");
  for (let i = 0; i < levels; i++) {
    ini.push(
      "",
      `[LAYER_0_LEVEL_${i}_SECTION]`,
      "OVERLAP_X=0",
      "OVERLAP_Y=0",
      `MICROMETER_PER_PIXEL_X=${mpp * 2 ** i}`,
      `MICROMETER_PER_PIXEL_Y=${mpp * 2 ** i}`,
      "IMAGE_FORMAT=JPEG",
      "IMAGE_FILL_COLOR_BGR=16777215",
      `DIGITIZER_WIDTH=${size}`,
      `DIGITIZER_HEIGHT=${size}`,
      `IMAGE_CONCAT_FACTOR=${i === 0 ? 0 : 1}`,
    );
  }
  ini.push("", "[DATAFILE]", "FILE_COUNT=1", "FILE_0=Data0000.dat", "");

  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, "Slidedat.ini"), ini.join("\r\n"));
  await writeFile(join(folder, "Index.dat"), Buffer.concat([header, ints]));
  await writeFile(join(folder, "Data0000.dat"), Buffer.concat(data));
  // The .mrxs file itself is a small binary the scanner software opens; OpenSlide reads only its name.
  await writeFile(path, Buffer.concat([Buffer.from("MRXS", "latin1"), Buffer.from(slideId, "hex")]));
  return {
    path,
    folder,
    width,
    height,
    levels: Array.from({ length: levels }, (_, i) => ({ width: Math.floor(width / 2 ** i), height: Math.floor(height / 2 ** i) })),
    pixel,
  };
}
