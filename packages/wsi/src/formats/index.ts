import type { ByteSource } from "../byte-source";
import { WsiError } from "../errors";
import { type TiffFile, readTiff } from "../tiff/directory";
import { aperioReader } from "./aperio";
import { dicomFormat } from "./dicom";
import { genericTiffReader } from "./generic-tiff";
import type { SourceFormat } from "./level-reader";
import { ndpiFormat } from "./ndpi";
import { omeReader } from "./ome";
import { tiffLayoutParts } from "./tiff-levels";
import type { FormatReader, SlideLayout } from "./types";
import { describeUnknownFormat } from "./unknown";

/** TIFF vendor layouts, most specific first: a vendor's own layout wins over the generic reading. */
export const formatReaders: readonly FormatReader[] = [aperioReader, omeReader, genericTiffReader];

export function layoutSlide(file: TiffFile, name: string): SlideLayout {
  const reader = formatReaders.find((r) => r.detect(file));
  if (!reader) {
    throw new WsiError(
      "UNSUPPORTED_FORMAT",
      `${name}: is a TIFF without tiles, so not a whole-slide image. Supported: Aperio SVS, tiled pyramidal TIFF, OME-TIFF.`,
    );
  }
  const layout = reader.layout(file, name);
  if (layout.levels.length === 0) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: no tiled image found; not a whole-slide image.`);
  }
  return layout;
}

const tiffMagic = new Set(["II*\0", "MM\0*", "II+\0", "MM\0+"]);

export function hasTiffMagic(head: Uint8Array): boolean {
  return tiffMagic.has(Buffer.from(head.subarray(0, 4)).toString("latin1"));
}

export { hasDicomMagic } from "./dicom";

/**
 * False when no directory carries what OpenSlide 3.4/4.0 looks for to take a TIFF as one of the
 * vendors read here only generically: Philips (Software "Philips…"), Leica SCN (its XML
 * namespace in a description), Ventana BIF (an XMP packet with iScan; also its "level=…" and
 * "Label Image" descriptions), Trestle (Software "MedScan"). True, so OpenSlide is asked as
 * before, for anything that comes near one of them.
 */
export function mayBeOpenslideVendorTiff(file: TiffFile): boolean {
  const all = file.directories.flatMap((d) => [d, ...d.subIfds]);
  return all.some(
    (d) => d.hasXmp || /^(Philips|MedScan)/i.test(d.software) || /leica|iscan/i.test(d.description) || /^\s*(level=|label[ _]image)/i.test(d.description),
  );
}

/** Standard TIFF and BigTIFF through the vendor layouts above. */
export const tiffFormat: SourceFormat = {
  name: "tiff",
  claims: async (_source, head) => hasTiffMagic(head),
  async open(source) {
    const file = await readTiff(source);
    return tiffLayoutParts(source, layoutSlide(file, source.name), file);
  },
  async inspect(source) {
    const file = await readTiff(source);
    return { mayNeedPathReader: mayBeOpenslideVendorTiff(file), open: async () => tiffLayoutParts(source, layoutSlide(file, source.name), file) };
  },
};

/**
 * Single-file formats read from bytes, most specific first. A new format adds its reader
 * here (one file per format under formats/); the first whose `claims` is true opens the file.
 */
export const sourceFormats: readonly SourceFormat[] = [ndpiFormat, tiffFormat, dicomFormat];

/** The reader that claims these bytes, or a clear error naming what the file is. */
export async function findSourceFormat(source: ByteSource, head: Uint8Array, size: number): Promise<SourceFormat | undefined> {
  if (size < 16) throw new WsiError("NOT_A_TIFF", `${source.name}: only ${size} byte${size === 1 ? "" : "s"} long; not a slide file.`);
  for (const format of sourceFormats) {
    if (await format.claims(source, head)) return format;
  }
  return undefined;
}

export function refuseUnclaimed(name: string, head: Uint8Array): never {
  throw describeUnknownFormat(name, head);
}
