import type { TiffDirectory } from "../tiff/directory";
import type { FormatReader, SlideLayout } from "./types";

/**
 * Aperio SVS: a TIFF whose first description starts "Aperio". Tiled directories are the
 * pyramid; the second directory is a stripped thumbnail; label and macro are stripped images
 * named on their description's second line (older files: LZW reduced image = label, subfile
 * type 9 = macro).
 */
export const aperioReader: FormatReader = {
  format: "aperio-svs",
  detect: (file) => file.directories[0]!.description.startsWith("Aperio"),
  layout(file) {
    const [first] = file.directories;
    const properties = parseAperioDescription(first!.description);
    const associated: SlideLayout["associated"] = {};
    file.directories.forEach((d, index) => {
      if (d.tiled) return;
      const kind = associatedKind(d, index);
      if (kind && !associated[kind]) associated[kind] = d;
    });
    const mpp = Number(properties["aperio.MPP"]);
    const power = Number(properties["aperio.AppMag"]);
    return {
      format: "aperio-svs",
      vendor: "aperio",
      levels: file.directories.filter((d) => d.tiled),
      associated,
      mppX: mpp > 0 ? mpp : undefined,
      mppY: mpp > 0 ? mpp : undefined,
      objectivePower: power > 0 ? power : undefined,
      properties,
    };
  },
};

function associatedKind(d: TiffDirectory, index: number): "label" | "macro" | "thumbnail" | undefined {
  const secondLine = d.description.split(/\r?\n/)[1]?.trim().toLowerCase() ?? "";
  if (secondLine.startsWith("label")) return "label";
  if (secondLine.startsWith("macro")) return "macro";
  if (index === 1) return "thumbnail";
  if (d.newSubfileType === 9) return "macro";
  if (d.newSubfileType === 1 && d.compression === 5) return "label";
  return undefined;
}

/** "Aperio Image Library v11\r\n46000x32914 [...] JPEG/RGB Q=30|AppMag = 20|MPP = 0.499" → properties. */
export function parseAperioDescription(description: string): Record<string, string> {
  const properties: Record<string, string> = {};
  const [summary, ...pairs] = description.split("|");
  properties["aperio.Summary"] = (summary ?? "").replace(/\s+/g, " ").trim();
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    if (key) properties[`aperio.${key}`] = pair.slice(at + 1).trim();
  }
  return properties;
}
