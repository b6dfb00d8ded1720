import { WsiError } from "../errors";
import type { TiffFile } from "../tiff/directory";
import { aperioReader } from "./aperio";
import { genericTiffReader } from "./generic-tiff";
import { omeReader } from "./ome";
import type { FormatReader, SlideLayout } from "./types";

/** Most specific first: a vendor's own layout wins over the generic pyramidal TIFF reading. */
export const formatReaders: readonly FormatReader[] = [aperioReader, omeReader, genericTiffReader];

export function layoutSlide(file: TiffFile, name: string): SlideLayout {
  if (file.directories.some((d) => d.hasNdpiTag)) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: is a Hamamatsu NDPI file; NDPI is not supported yet. Export it as OME-TIFF (e.g. with QuPath) and publish that.`);
  }
  const reader = formatReaders.find((r) => r.detect(file));
  if (!reader) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: is a TIFF without tiles, so not a whole-slide image. Supported: Aperio SVS, tiled pyramidal TIFF, OME-TIFF.`);
  }
  const layout = reader.layout(file, name);
  if (layout.levels.length === 0) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: no tiled image found; not a whole-slide image.`);
  }
  return layout;
}
