import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { decodeJpeg, encodeJpeg } from "../codec/jpeg";
import { decodeJpeg2000, encodeJpeg2000 } from "../codec/jpeg2000";
import type { RgbImage } from "../image";
import { TransferSyntax, createUid, encodeDataset, encodeFileMeta } from "../dicom/part10-encoder";
import { type InstanceLayout, writeDicomInstance } from "../dicom/write-series";
import type { InstanceGeometry, SeriesIdentity } from "../dicom/wsi-dataset";
import { tissuePixel } from "./tiff-writer";

/**
 * Writes DICOM WSI series in the layouts real archives use, through the same encoder as
 * `pathx dicom`: TILED_FULL or TILED_SPARSE, a level split into a concatenation, basic,
 * extended or no offset table, frames over several fragments. Frames are JPEG of `tissuePixel`
 * at each level's scale (level n: 2^n level-0 pixels per pixel).
 */
export interface TestDicomOptions {
  width: number;
  height: number;
  tileSize: number;
  levels?: number;
  /** TILED_SPARSE, leaving out the tiles for which this returns true (level 0 only). */
  omitTile?: (col: number, row: number) => boolean;
  /** Split level 0 into this many instances of one concatenation. */
  concatenationParts?: number;
  layout?: InstanceLayout;
  /** A second series' UID for level 1 (a "mixed series" folder). */
  mixSeries?: boolean;
  /** Add a LABEL instance. */
  label?: boolean;
  /** Frames as JPEG 2000 (lossy, YBR_ICT) instead of JPEG baseline. */
  jpeg2000?: boolean;
}

export interface WrittenDicomSeries {
  dir: string;
  /** Files in write order: level 0 (each concatenation part), lower levels, label. */
  files: string[];
  pixel: (level: number, x: number, y: number) => [number, number, number];
  /** The frame written for a tile, decoded: what a reader must give back, pixel for pixel. */
  frame: (level: number, col: number, row: number) => Promise<RgbImage>;
}

function newSeries(): SeriesIdentity {
  return {
    studyUid: createUid(),
    seriesUid: createUid(),
    frameOfReferenceUid: createUid(),
    pyramidUid: createUid(),
    dimensionOrganizationUid: createUid(),
    specimenUid: createUid(),
    patientId: "",
    patientIdIssuer: "",
    containerId: "TEST-1",
    accessionNumber: "",
    manufacturer: "pathx test-support",
    date: "20260101",
    time: "120000",
  };
}

function tilePixels(level: number, col: number, row: number, size: number): RgbImage {
  const data = Buffer.alloc(size * size * 3);
  const scale = 2 ** level;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [r, g, b] = tissuePixel((col * size + x) * scale, (row * size + y) * scale);
      data[(y * size + x) * 3] = r;
      data[(y * size + x) * 3 + 1] = g;
      data[(y * size + x) * 3 + 2] = b;
    }
  }
  return { width: size, height: size, data };
}

async function tileJpeg(level: number, col: number, row: number, size: number): Promise<Buffer> {
  return encodeJpeg(tilePixels(level, col, row, size), 92, { subsampled: true });
}

export async function writeTestDicomSeries(dir: string, options: TestDicomOptions): Promise<WrittenDicomSeries> {
  await mkdir(dir, { recursive: true });
  const series = newSeries();
  const frameOf = (level: number, col: number, row: number): Promise<Uint8Array> =>
    options.jpeg2000 ? encodeJpeg2000(tilePixels(level, col, row, size), { ratio: 8 }) : tileJpeg(level, col, row, size);
  const layout: InstanceLayout = { ...options.layout, ...(options.jpeg2000 ? { transferSyntax: TransferSyntax.jpeg2000 } : {}) };
  const files: string[] = [];
  const size = options.tileSize;
  for (let level = 0; level < (options.levels ?? 1); level++) {
    const width = Math.ceil(options.width / 2 ** level);
    const height = Math.ceil(options.height / 2 ** level);
    const across = Math.ceil(width / size);
    const down = Math.ceil(height / size);
    let tiles = Array.from({ length: across * down }, (_, i) => [i % across, Math.floor(i / across)] as [number, number]);
    const sparse = level === 0 && options.omitTile;
    if (sparse) tiles = tiles.filter(([c, r]) => !options.omitTile!(c, r)).reverse(); // sparse frames in any order
    const parts = level === 0 ? (options.concatenationParts ?? 1) : 1;
    const perPart = Math.ceil(tiles.length / parts);
    const concatenationUid = createUid();
    const sourceUid = createUid();
    for (let part = 0; part < parts; part++) {
      const mine = tiles.slice(part * perPart, (part + 1) * perPart);
      const geometry: InstanceGeometry = {
        kind: "VOLUME",
        original: level === 0,
        instanceNumber: files.length + 1,
        sopInstanceUid: createUid(),
        totalWidth: width,
        totalHeight: height,
        tileWidth: size,
        tileHeight: size,
        frames: mine.length,
        photometric: options.jpeg2000 ? "YBR_ICT" : "YBR_FULL_422",
        lossy: true,
        lossyMethod: options.jpeg2000 ? "ISO_15444_1" : "ISO_10918_1",
        spacingMm: { x: 0.00025 * 2 ** level, y: 0.00025 * 2 ** level },
        imagedMm: { width: options.width * 0.00025, height: options.height * 0.00025 },
        sectionThicknessMm: 0.004,
        sparsePositions: sparse ? Int32Array.from(mine.flatMap(([c, r]) => [c * size + 1, r * size + 1])) : undefined,
        concatenation: parts > 1 ? { uid: concatenationUid, sourceUid, frameOffset: part * perPart, number: part + 1, total: parts } : undefined,
      };
      const path = join(dir, `level-${level}${parts > 1 ? `-part-${part + 1}` : ""}.dcm`);
      const identity = options.mixSeries && level === 1 ? { ...series, seriesUid: createUid() } : series;
      await writeDicomInstance(path, identity, geometry, (i) => frameOf(level, mine[i]![0], mine[i]![1]), layout);
      files.push(path);
    }
  }
  if (options.label) {
    const geometry: InstanceGeometry = {
      kind: "LABEL",
      original: true,
      instanceNumber: files.length + 1,
      sopInstanceUid: createUid(),
      totalWidth: size,
      totalHeight: size,
      tileWidth: size,
      tileHeight: size,
      frames: 1,
      photometric: "YBR_FULL_422",
      lossy: true,
      spacingMm: { x: 0.1, y: 0.1 },
      sectionThicknessMm: 0.004,
    };
    const path = join(dir, "label.dcm");
    await writeDicomInstance(path, series, geometry, () => tileJpeg(6, 0, 0, size));
    files.push(path);
  }
  return {
    dir,
    files,
    pixel: (level, x, y) => tissuePixel(x * 2 ** level, y * 2 ** level),
    frame: async (level, col, row) =>
      options.jpeg2000 ? decodeJpeg2000(await frameOf(level, col, row), { colour: "rgb" }) : decodeJpeg(await tileJpeg(level, col, row, size)),
  };
}

/** A valid Part 10 file of another kind (a CT image header): DICOM, but no slide. */
export function nonWsiDicom(): Buffer {
  const ct = "1.2.840.10008.5.1.4.1.1.2";
  const uid = createUid();
  return Buffer.concat([
    encodeFileMeta(ct, uid, TransferSyntax.explicitLittle),
    encodeDataset([
      { tag: 0x00080016, vr: "UI", value: ct },
      { tag: 0x00080018, vr: "UI", value: uid },
      { tag: 0x00080060, vr: "CS", value: "CT" },
      { tag: 0x00280010, vr: "US", value: 2 },
      { tag: 0x00280011, vr: "US", value: 2 },
      { tag: 0x7fe00010, vr: "OB", value: new Uint8Array(8) },
    ]),
  ]);
}
