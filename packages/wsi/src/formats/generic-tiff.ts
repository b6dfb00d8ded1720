import type { TiffDirectory } from "../tiff/directory";
import { type AssociatedName, type FormatReader, mppFromResolution, pyramidOf } from "./types";

/**
 * Any tiled pyramidal TIFF (libvips, libtiff, Philips-like): the first tiled directory is the
 * base; smaller tiled directories in the chain or in its SubIFDs are its levels. Stripped
 * directories whose description names them are label / macro / thumbnail.
 */
export const genericTiffReader: FormatReader = {
  format: "generic-tiff",
  detect: (file) => file.directories.some((d) => d.tiled),
  layout(file) {
    const base = file.directories.find((d) => d.tiled)!;
    const candidates = [base, ...base.subIfds, ...file.directories.filter((d) => d !== base)];
    const levels = pyramidOf(candidates.sort((a, b) => b.width * b.height - a.width * a.height));
    const associated: Partial<Record<AssociatedName, TiffDirectory>> = {};
    for (const d of file.directories) {
      if (levels.includes(d)) continue;
      const name = d.description.toLowerCase();
      const kind = name.includes("label") ? "label" : name.includes("macro") ? "macro" : name.includes("thumbnail") ? "thumbnail" : undefined;
      if (kind) associated[kind] ??= d;
    }
    const properties: Record<string, string> = {};
    if (base.software) properties["tiff.Software"] = base.software;
    if (base.description) properties["tiff.ImageDescription"] = base.description.slice(0, 1000);
    return {
      format: "generic-tiff",
      vendor: "generic-tiff",
      levels,
      associated,
      mppX: mppFromResolution(base.xResolution, base.resolutionUnit),
      mppY: mppFromResolution(base.yResolution, base.resolutionUnit),
      properties,
    };
  },
};
