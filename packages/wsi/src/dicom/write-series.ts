import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { encodeJpeg } from "../codec/jpeg";
import { type JpegHeaderInfo, photometricOfJpeg, readJpegHeader } from "../codec/jpeg-header";
import { WsiError, toWsiError } from "../errors";
import type { RgbImage } from "../image";
import type { Slide } from "../slide";
import { TransferSyntax, createUid, encodeDataset, encodeElementHeader, encodeFileMeta, encodeItemHeader, encodeSequenceDelimiter } from "./part10-encoder";
import { COMPRESSION_RATIO_PLACEHOLDER, type InstanceGeometry, type SeriesIdentity, WSI_SOP_CLASS_UID, buildWsiDataset, formatDs } from "./wsi-dataset";

export interface DicomExportOptions {
  /** PatientID (and PatientName) of every instance: the lab's pseudonym, never the real id. */
  patientPseudonym?: string;
  /** Write the label and macro (as OVERVIEW) too; only when the lab's policy shares them. */
  includeLabel?: boolean;
  /** Copy source JPEG tiles unchanged where they are baseline JPEG of the tile size. Default true. */
  passthrough?: boolean;
  /** JPEG quality of re-encoded frames. Default 90. */
  quality?: number;
  /** Microns per pixel when the slide records none. */
  mpp?: number;
  containerId?: string;
  accessionNumber?: string;
  /** Only the full-resolution level (a reader builds the rest): one file for a one-file upload. */
  baseOnly?: boolean;
  /** Derive every UID from this (e.g. the source's UIDs): the same export then gives the same bytes. */
  uidSeed?: string;
  /** Creation date and time written into the instances; default now. */
  createdAt?: Date;
  onProgress?: (framesWritten: number, framesTotal: number) => void;
}

export interface DicomExportResult {
  files: string[];
  studyUid: string;
  seriesUid: string;
  framesPassedThrough: number;
  framesEncoded: number;
}

/** Nominal section thickness: TIFF sources do not record it, and DICOM wants a non-zero value. */
const SECTION_THICKNESS_MM = 0.004;

/**
 * Writes a slide as a DICOM WSI series into `outDir`: one TILED_FULL instance per level
 * (level-N.dcm), plus label.dcm and overview.dcm when `includeLabel` is set.
 */
export async function writeDicomSeries(slide: Slide, outDir: string, options: DicomExportOptions = {}): Promise<DicomExportResult> {
  const meta = slide.metadata;
  const quality = options.quality ?? 90;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new WsiError("INVALID_OPTIONS", `quality must be a whole number from 1 to 100 (got ${quality}).`);
  const mppX = meta.mppX ?? options.mpp;
  const mppY = meta.mppY ?? options.mpp;
  if (!mppX || !mppY) {
    throw new WsiError("INVALID_OPTIONS", `${meta.name}: records no pixel size, which DICOM requires; give it with --mpp (microns per pixel).`);
  }
  const iso = (options.createdAt ?? new Date()).toISOString();
  const uid = (role: string) => createUid(options.uidSeed === undefined ? undefined : `${options.uidSeed}|${role}`);
  const series: SeriesIdentity = {
    studyUid: uid("study"),
    seriesUid: uid("series"),
    frameOfReferenceUid: uid("frame-of-reference"),
    pyramidUid: uid("pyramid"),
    dimensionOrganizationUid: uid("dimension-organization"),
    specimenUid: uid("specimen"),
    ...splitPseudonym(options.patientPseudonym),
    containerId: (options.containerId ?? meta.name.replace(/\.[^.]*$/, "")).slice(0, 64),
    accessionNumber: (options.accessionNumber ?? "").slice(0, 16),
    manufacturer: meta.vendor.slice(0, 64),
    date: iso.slice(0, 10).replace(/-/g, ""),
    time: iso.slice(11, 19).replace(/:/g, ""),
  };
  const levels = options.baseOnly ? meta.levels.slice(0, 1) : meta.levels;
  const framesTotal = levels.reduce((sum, l) => sum + Math.ceil(l.width / l.tileWidth) * Math.ceil(l.height / l.tileHeight), 0);
  const counts = { passed: 0, encoded: 0, written: 0 };
  const files: string[] = [];
  await mkdir(outDir, { recursive: true });
  const base = meta.levels[0]!;
  for (const level of levels) {
    const across = Math.ceil(level.width / level.tileWidth);
    const down = Math.ceil(level.height / level.tileHeight);
    const frames = prefetch(createLevelFrames(slide, level.index, across, { passthrough: options.passthrough ?? true, quality }, counts), across * down);
    const first = await frames(0);
    const geometry: InstanceGeometry = {
      kind: "VOLUME",
      original: level.index === 0,
      instanceNumber: level.index + 1,
      sopInstanceUid: uid(`level-${level.index}`),
      totalWidth: level.width,
      totalHeight: level.height,
      tileWidth: level.tileWidth,
      tileHeight: level.tileHeight,
      frames: across * down,
      photometric: first.photometric,
      lossy: true,
      spacingMm: { x: (mppX * (base.width / level.width)) / 1000, y: (mppY * (base.height / level.height)) / 1000 },
      imagedMm: { width: (base.width * mppX) / 1000, height: (base.height * mppY) / 1000 },
      sectionThicknessMm: SECTION_THICKNESS_MM,
      objectivePower: meta.objectivePower ?? undefined,
    };
    const path = join(outDir, `level-${level.index}.dcm`);
    await writeDicomInstance(path, series, geometry, async (index) => {
      const frame = index === 0 ? first : await frames(index);
      if (frame.photometric !== first.photometric) {
        throw new WsiError(
          "UNSUPPORTED_COMPRESSION",
          `${meta.name}: level ${level.index} mixes JPEG colour codings (${first.photometric} and ${frame.photometric}); export it with --no-passthrough.`,
        );
      }
      options.onProgress?.(++counts.written, framesTotal);
      return frame.bytes;
    });
    files.push(path);
  }
  if (options.includeLabel) {
    for (const [name, kind] of [
      ["label", "LABEL"],
      ["macro", "OVERVIEW"],
    ] as const) {
      if (!meta.associated.some((a) => a.name === name)) continue;
      const image = await slide.readAssociated(name);
      const bytes = await encodeJpeg(image, quality, { subsampled: true });
      // Nominal scale: the macro shows the whole 76 mm glass, the label its 26 mm wide end.
      const spacing = (kind === "OVERVIEW" ? 76 : 26) / Math.max(image.width, image.height);
      const geometry: InstanceGeometry = {
        kind,
        original: true,
        instanceNumber: meta.levels.length + files.length + 1,
        sopInstanceUid: uid(kind),
        totalWidth: image.width,
        totalHeight: image.height,
        tileWidth: image.width,
        tileHeight: image.height,
        frames: 1,
        photometric: photometricOfJpeg(readJpegHeader(bytes)!),
        lossy: true,
        spacingMm: { x: spacing, y: spacing },
        sectionThicknessMm: SECTION_THICKNESS_MM,
      };
      const path = join(outDir, `${kind.toLowerCase()}.dcm`);
      await writeDicomInstance(path, series, geometry, async () => bytes);
      files.push(path);
    }
  }
  return { files, studyUid: series.studyUid, seriesUid: series.seriesUid, framesPassedThrough: counts.passed, framesEncoded: counts.encoded };
}

/** Asks for the next frames while one is written: decoding and encoding run on the thread pool. */
function prefetch<T>(load: (index: number) => Promise<T>, count: number, ahead = 16): (index: number) => Promise<T> {
  const pending = new Map<number, Promise<T>>();
  const start = (index: number) => {
    if (index >= count || pending.has(index)) return;
    const promise = load(index);
    promise.catch(() => {}); // awaited in order below; this only keeps an early failure from going unhandled
    pending.set(index, promise);
  };
  return (index) => {
    for (let i = index; i < index + ahead; i++) start(i);
    const promise = pending.get(index)!;
    pending.delete(index);
    return promise;
  };
}

/**
 * PatientID is at most 64 characters: an "hmac-sha256:<64 hex>" pseudonym keeps its digest
 * there and names the scheme in IssuerOfPatientID.
 */
function splitPseudonym(pseudonym: string | undefined): { patientId: string; patientIdIssuer: string } {
  if (!pseudonym) return { patientId: "", patientIdIssuer: "" };
  const match = /^(hmac-sha256):([0-9a-f]{64})$/.exec(pseudonym);
  if (match) return { patientId: match[2]!, patientIdIssuer: `pathx ${match[1]} pseudonym` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the check refuses.
  if (pseudonym.length > 64 || /[\\\x00-\x1f]/.test(pseudonym)) {
    throw new WsiError("INVALID_OPTIONS", "the patient pseudonym must be an hmac-sha256:<hex> pseudonym or at most 64 plain characters.");
  }
  return { patientId: pseudonym, patientIdIssuer: "" };
}

interface Frame {
  bytes: Uint8Array;
  photometric: string;
}

/** Frames of one level in row-major order: source JPEG passed through, anything else re-encoded. */
function createLevelFrames(
  slide: Slide,
  level: number,
  across: number,
  options: { passthrough: boolean; quality: number },
  counts: { passed: number; encoded: number },
) {
  const { tileWidth, tileHeight } = slide.metadata.levels[level]!;
  // DICOM WSI admits RGB and YBR_FULL_422 JPEG, not 4:4:4 YCbCr (YBR_FULL): those are re-encoded.
  const passable = (info: JpegHeaderInfo | undefined): info is JpegHeaderInfo =>
    !!info &&
    info.sof === 0xc0 &&
    info.precision === 8 &&
    info.components === 3 &&
    info.width === tileWidth &&
    info.height === tileHeight &&
    photometricOfJpeg(info) !== "YBR_FULL";
  return async (index: number): Promise<Frame> => {
    const col = index % across;
    const row = Math.floor(index / across);
    if (options.passthrough) {
      const raw = await slide.readRawTile(level, col, row);
      const info = raw.kind === "jpeg" ? readJpegHeader(raw.bytes) : undefined;
      if (passable(info)) {
        counts.passed++;
        return { bytes: raw.bytes, photometric: photometricOfJpeg(info) };
      }
    }
    const tile: RgbImage = await slide.decodeTile(level, col, row);
    const bytes = await encodeJpeg(tile, options.quality, { subsampled: true });
    counts.encoded++;
    return { bytes, photometric: photometricOfJpeg(readJpegHeader(bytes)!) };
  };
}

/** How frames are laid out in the pixel data; the variants besides the default serve tests of readers. */
export interface InstanceLayout {
  /** "basic" (default): Basic Offset Table; "extended": Extended Offset Table; "empty": none. */
  offsetTable?: "basic" | "extended" | "empty";
  /** Split each frame over this many fragments (default 1). */
  fragmentsPerFrame?: number;
  /** Transfer syntax of the frames given (default JPEG baseline). */
  transferSyntax?: string;
}

/**
 * Streams one Part 10 file: header, encapsulated frames, then fills the offset table reserved
 * before them. Pixel data past 4 GiB cannot be indexed by a Basic Offset Table (32-bit
 * offsets): the file is then rewritten with an empty one, and readers walk the fragments.
 */
export async function writeDicomInstance(
  path: string,
  series: SeriesIdentity,
  image: InstanceGeometry,
  frameAt: (index: number) => Promise<Uint8Array>,
  layout: InstanceLayout = {},
): Promise<void> {
  const tableKind = layout.offsetTable ?? "basic";
  const pieces = layout.fragmentsPerFrame ?? 1;
  const partial = `${path}.partial`;
  let file: FileHandle | undefined;
  try {
    file = await open(partial, "w");
    const eight = new Uint8Array(image.frames * 8);
    const extended =
      tableKind === "extended"
        ? [
            { tag: 0x7fe00001, vr: "OV" as const, value: eight },
            { tag: 0x7fe00002, vr: "OV" as const, value: eight },
          ]
        : [];
    const basicBytes = tableKind === "basic" ? image.frames * 4 : 0;
    const dataset = encodeDataset([...buildWsiDataset(series, image), ...extended]);
    const meta = encodeFileMeta(WSI_SOP_CLASS_UID, image.sopInstanceUid, layout.transferSyntax ?? TransferSyntax.jpegBaseline);
    const header = Buffer.concat([meta, dataset, encodeElementHeader(0x7fe00010, "OB", 0xffffffff), encodeItemHeader(basicBytes)]);
    const tablePosition = header.length;
    // The Extended Offset Table's values sit just before the pixel data element: offsets, then lengths.
    const extendedPosition = meta.length + dataset.length - (12 + eight.length) * 2 + 12;
    let position = header.length + basicBytes;
    const lengths = new Array<number>(image.frames);
    const firstFragment = position;
    const offsets = new Array<number>(image.frames);
    await file.write(header, 0, header.length, 0);
    let compressed = 0;
    for (let index = 0; index < image.frames; index++) {
      const frame = await frameAt(index);
      compressed += frame.length;
      offsets[index] = position - firstFragment;
      const padded = frame.length % 2 ? Buffer.concat([frame, Buffer.alloc(1)]) : Buffer.from(frame);
      lengths[index] = padded.length;
      const step = Math.ceil(padded.length / pieces / 2) * 2;
      const chunks: Buffer[] = [];
      for (let at = 0; at < padded.length; at += step) chunks.push(encodeItemHeader(Math.min(step, padded.length - at)), padded.subarray(at, at + step));
      const chunk = Buffer.concat(chunks);
      await file.write(chunk, 0, chunk.length, position);
      position += chunk.length;
    }
    const end = encodeSequenceDelimiter();
    await file.write(end, 0, end.length, position);
    if (image.lossy) {
      const ratio = Buffer.from(formatDs((image.frames * image.tileWidth * image.tileHeight * 3) / Math.max(1, compressed)).padEnd(16, " "));
      await file.write(ratio, 0, 16, findRatioPlaceholder(header));
    }
    if (tableKind === "extended") {
      const table = Buffer.alloc(image.frames * 16 + 12);
      offsets.forEach((offset, i) => {
        table.writeBigUInt64LE(BigInt(offset), i * 8);
      });
      encodeElementHeader(0x7fe00002, "OV", eight.length).copy(table, image.frames * 8);
      lengths.forEach((length, i) => {
        table.writeBigUInt64LE(BigInt(length), image.frames * 8 + 12 + i * 8);
      });
      await file.write(table, 0, table.length, extendedPosition);
      await file.close();
      file = undefined;
    } else if (tableKind === "empty" || offsets[offsets.length - 1]! <= 0xffffffff) {
      const table = tableKind === "empty" ? Buffer.alloc(0) : Buffer.alloc(image.frames * 4);
      if (tableKind === "basic") {
        offsets.forEach((offset, i) => {
          table.writeUInt32LE(offset, i * 4);
        });
      }
      await file.write(table, 0, table.length, tablePosition);
      await file.close();
      file = undefined;
    } else {
      await file.close();
      file = undefined;
      await dropOffsetTable(partial, tablePosition, image.frames * 4);
    }
    await rename(partial, path);
  } catch (error) {
    await file?.close().catch(() => {});
    await rm(partial, { force: true });
    throw toWsiError(error, "IO_ERROR", path);
  }
}

/** Where the LossyImageCompressionRatio placeholder's value sits in the encoded header. */
function findRatioPlaceholder(header: Buffer): number {
  const element = Buffer.concat([encodeElementHeader(0x00282112, "DS", 16), Buffer.from(COMPRESSION_RATIO_PLACEHOLDER)]);
  const at = header.indexOf(element);
  if (at < 0) throw new Error("the compression ratio placeholder is missing from the header");
  return at + 8;
}

/** Rewrites a file with its Basic Offset Table emptied (item length 0, entries removed). */
async function dropOffsetTable(path: string, tablePosition: number, tableBytes: number): Promise<void> {
  const source = await open(path, "r");
  const target = await open(`${path}.rewrite`, "w");
  try {
    const head = Buffer.alloc(tablePosition);
    await source.read(head, 0, tablePosition, 0);
    head.writeUInt32LE(0, tablePosition - 4);
    await target.write(head, 0, head.length, 0);
    const { size } = await source.stat();
    const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
    let from = tablePosition + tableBytes;
    let to = tablePosition;
    while (from < size) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, size - from), from);
      await target.write(buffer, 0, bytesRead, to);
      from += bytesRead;
      to += bytesRead;
    }
  } finally {
    await source.close();
    await target.close();
  }
  await rename(`${path}.rewrite`, path);
}
