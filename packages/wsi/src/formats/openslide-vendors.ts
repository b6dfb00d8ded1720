import type { SlideMetadata } from "../slide";

/**
 * True when the native TIFF reader took a slide only generically although it is a vendor TIFF
 * whose layout OpenSlide knows (Philips TIFF, Leica SCN, Ventana BIF): read by bytes alone, its
 * levels, label or macro may come out wrong, so a service holding only its bytes should have it
 * rewritten from a local copy through OpenSlide (`writeServingTiff`) rather than serve it as is.
 */
export function isOpenslideVendorLayout(metadata: SlideMetadata): boolean {
  if (metadata.format !== "generic-tiff") return false;
  const software = metadata.properties["tiff.Software"] ?? "";
  const description = metadata.properties["tiff.ImageDescription"] ?? "";
  if (software.startsWith("Philips") && description.includes("DPUfsImport")) return true;
  if (description.includes("leica-microsystems.com/scn")) return true;
  return /^(level=\d+ mag=|Label[ _]Image)/.test(description);
}
