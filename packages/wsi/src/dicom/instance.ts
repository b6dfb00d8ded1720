import dicomParser from "dicom-parser";
import type { ByteSource } from "../byte-source";
import { WsiError } from "../errors";
import { limits } from "../limits";
import { WSI_SOP_CLASS_UID } from "./wsi-dataset";

type DataSet = ReturnType<typeof dicomParser.parseDicom>;

export type ImageFlavour = "VOLUME" | "LABEL" | "OVERVIEW" | "THUMBNAIL";

/** What the engine needs of one VL Whole Slide Microscopy instance; pixel data stays on disk. */
export interface DicomInstance {
  source: ByteSource;
  sopInstanceUid: string;
  seriesUid: string;
  studyUid: string;
  transferSyntax: string;
  flavour: ImageFlavour;
  totalWidth: number;
  totalHeight: number;
  tileWidth: number;
  tileHeight: number;
  frames: number;
  samplesPerPixel: number;
  photometric: string;
  planar: number;
  bitsAllocated: number;
  tiledFull: boolean;
  /** TILED_SPARSE: level-0-pixel (1-based) column and row of each frame. */
  positions?: Int32Array;
  /** Pixel data element: where its value starts, and whether it is encapsulated. */
  pixelDataOffset: number;
  pixelDataLength: number;
  encapsulated: boolean;
  /** Extended Offset Table, when the instance has one. */
  extendedOffsets?: { offsets: number[]; lengths: number[] };
  concatenation?: { uid: string; frameOffset: number; number: number; total: number };
  mppX?: number;
  mppY?: number;
  objectivePower?: number;
  manufacturer: string;
  model: string;
}

const FIRST_READ = 64 * 1024;
const MAX_HEADER = 256 * 1024 * 1024;

/**
 * dicom-parser 1.8 predates the 64-bit VRs (OV, SV, UV): it would read the Extended Offset
 * Table's 4-byte length as 2 bytes. Relabelled OB (same header layout), it parses, and the
 * table is read as bytes.
 */
function relabelExtendedOffsetTable(bytes: Uint8Array): void {
  for (const element of [0x01, 0x02]) {
    const pattern = Buffer.from([0xe0, 0x7f, element, 0x00, 0x4f, 0x56]);
    const at = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).lastIndexOf(pattern);
    if (at >= 0) bytes[at + 5] = 0x42; // 'B'
  }
}

/** Reads the header up to the pixel data, asking for more bytes until it parses. */
async function readHeader(source: ByteSource): Promise<DataSet> {
  const size = await source.size();
  let length = Math.min(size, FIRST_READ);
  for (;;) {
    const bytes = Uint8Array.from(await source.read(0, length));
    relabelExtendedOffsetTable(bytes);
    let dataSet: DataSet | undefined;
    let failure: unknown;
    try {
      dataSet = dicomParser.parseDicom(bytes, { untilTag: "x7fe00010" });
    } catch (error) {
      failure = error;
    }
    if (dataSet?.elements.x7fe00010) return dataSet;
    if (length >= size) {
      if (dataSet) return dataSet; // no pixel data: the caller says what the file is
      // dicom-parser throws strings, or { exception, dataSet } once it has parsed part of the file.
      const detail = String((failure as { exception?: unknown })?.exception ?? (failure instanceof Error ? failure.message : failure));
      const truncated = /past end|overrun|buffer/i.test(detail);
      throw new WsiError(
        truncated ? "TRUNCATED" : "CORRUPT",
        `${source.name}: the DICOM header cannot be read (${detail.replace(/^[\w.]+:\s*/, "")}); the file is ${truncated ? "truncated" : "damaged"}.`,
      );
    }
    if (length >= MAX_HEADER) throw new WsiError("TOO_LARGE", `${source.name}: the DICOM header is over ${MAX_HEADER >> 20} MiB; refusing to read it.`);
    length = Math.min(size, length * 4, MAX_HEADER);
  }
}

const text = (d: DataSet, tag: string) => d.string(tag)?.trim() ?? "";
const number = (d: DataSet, tag: string, what: string, name: string): number => {
  const element = d.elements[tag];
  let value: number | undefined;
  if (element) value = element.vr === "UL" ? d.uint32(tag) : element.vr === "US" ? d.uint16(tag) : d.intString(tag);
  if (value === undefined || !Number.isFinite(value))
    throw new WsiError("CORRUPT", `${name}: the DICOM attribute ${what} is missing; not a readable whole-slide image.`);
  return value;
};
const item = (d: DataSet | undefined, tag: string): DataSet | undefined => d?.elements[tag]?.items?.[0]?.dataSet;

/** Microns per pixel from PixelSpacing (mm, row \ column) of the shared or first per-frame group. */
function readSpacing(d: DataSet): { mppX?: number; mppY?: number } {
  const measures = item(item(d, "x52009229"), "x00289110") ?? item(item(d, "x52009230"), "x00289110");
  const row = measures?.floatString("x00280030", 0);
  const col = measures?.floatString("x00280030", 1);
  if (!row || !col || row <= 0 || col <= 0) return {};
  return { mppX: col * 1000, mppY: row * 1000 };
}

/** TILED_SPARSE: each frame's position in the total pixel matrix (1-based), from the per-frame groups. */
function readPositions(d: DataSet, frames: number, name: string): Int32Array {
  const items = d.elements.x52009230?.items;
  if (!items || items.length !== frames) {
    throw new WsiError(
      "CORRUPT",
      `${name}: a TILED_SPARSE instance needs one per-frame functional group per frame (found ${items?.length ?? 0} for ${frames} frames).`,
    );
  }
  const positions = new Int32Array(frames * 2);
  items.forEach((entry, i) => {
    const position = item(entry.dataSet, "x0048021a");
    const col = position?.int32("x0048021e") ?? position?.intString("x0048021e");
    const row = position?.int32("x0048021f") ?? position?.intString("x0048021f");
    if (col === undefined || row === undefined) throw new WsiError("CORRUPT", `${name}: frame ${i + 1} has no position in the total pixel matrix.`);
    positions[i * 2] = col;
    positions[i * 2 + 1] = row;
  });
  return positions;
}

function readExtendedOffsets(d: DataSet, frames: number, name: string): DicomInstance["extendedOffsets"] {
  const table = d.elements.x7fe00001;
  const lengths = d.elements.x7fe00002;
  if (!table || !lengths || table.length === 0) return undefined;
  if (table.length !== frames * 8 || lengths.length !== frames * 8) {
    throw new WsiError("CORRUPT", `${name}: the Extended Offset Table has ${table.length / 8} entries for ${frames} frames.`);
  }
  const view = (e: typeof table) => new DataView(d.byteArray.buffer, d.byteArray.byteOffset + e.dataOffset, e.length);
  const read = (v: DataView) => Array.from({ length: frames }, (_, i) => Number(v.getBigUint64(i * 8, true)));
  return { offsets: read(view(table)), lengths: read(view(lengths)) };
}

/** Parses one instance's header by ranges; refuses anything but a VL Whole Slide Microscopy image. */
export async function readDicomInstance(source: ByteSource): Promise<DicomInstance> {
  const name = source.name;
  const d = await readHeader(source);
  const sopClass = text(d, "x00080016");
  if (sopClass !== WSI_SOP_CLASS_UID) {
    throw new WsiError(
      "UNSUPPORTED_FORMAT",
      `${name}: is a DICOM file but not a whole-slide image (SOP class ${sopClass || "missing"}); pathx reads VL Whole Slide Microscopy instances.`,
    );
  }
  const imageType = (d.string("x00080008") ?? "").split("\\").map((v) => v.trim());
  const flavour = (["LABEL", "OVERVIEW", "THUMBNAIL"] as const).find((f) => imageType[2] === f) ?? "VOLUME";
  const frames = d.intString("x00280008") ?? 1;
  const tileWidth = number(d, "x00280011", "Columns", name);
  const tileHeight = number(d, "x00280010", "Rows", name);
  const totalWidth = d.elements.x00480006 ? number(d, "x00480006", "TotalPixelMatrixColumns", name) : tileWidth;
  const totalHeight = d.elements.x00480007 ? number(d, "x00480007", "TotalPixelMatrixRows", name) : tileHeight;
  for (const [what, value, max] of [
    ["tile width", tileWidth, limits.maxTileSide],
    ["tile height", tileHeight, limits.maxTileSide],
    ["width", totalWidth, limits.maxImageSide],
    ["height", totalHeight, limits.maxImageSide],
    ["frame count", frames, limits.maxChunksPerImage],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) throw new WsiError("CORRUPT", `${name}: implausible ${what} ${value}; the file is damaged.`);
  }
  const pixelData = d.elements.x7fe00010;
  if (!pixelData) throw new WsiError("TRUNCATED", `${name}: the DICOM file ends before its pixel data; it is truncated. Copy it again.`);
  const tiledFull = text(d, "x00209311") !== "TILED_SPARSE";
  const concatenationUid = text(d, "x00209161");
  const optical = item(d, "x00480105");
  return {
    source,
    sopInstanceUid: text(d, "x00080018"),
    seriesUid: text(d, "x0020000e"),
    studyUid: text(d, "x0020000d"),
    transferSyntax: text(d, "x00020010"),
    flavour,
    totalWidth,
    totalHeight,
    tileWidth,
    tileHeight,
    frames,
    samplesPerPixel: d.uint16("x00280002") ?? 1,
    photometric: text(d, "x00280004"),
    planar: d.uint16("x00280006") ?? 0,
    bitsAllocated: d.uint16("x00280100") ?? 8,
    tiledFull,
    positions: tiledFull ? undefined : readPositions(d, frames, name),
    pixelDataOffset: pixelData.dataOffset,
    pixelDataLength: pixelData.length,
    encapsulated: pixelData.hadUndefinedLength === true,
    extendedOffsets: readExtendedOffsets(d, frames, name),
    concatenation: concatenationUid
      ? {
          uid: concatenationUid,
          frameOffset: d.uint32("x00209228") ?? 0,
          number: d.uint16("x00209162") ?? 1,
          total: d.uint16("x00209163") ?? 1,
        }
      : undefined,
    ...readSpacing(d),
    objectivePower: optical?.floatString("x00480112") || undefined,
    manufacturer: text(d, "x00080070"),
    model: text(d, "x00081090"),
  };
}
