import type { TiffDirectory, TiffFile } from "../tiff/directory";

export type AssociatedName = "label" | "macro" | "thumbnail";

/** What a vendor reader makes of a TIFF: which directories are pyramid levels, which are pictures of the glass. */
export interface SlideLayout {
  format: "aperio-svs" | "ome-tiff" | "generic-tiff";
  vendor: string;
  /** Pyramid levels, largest first. */
  levels: TiffDirectory[];
  associated: Partial<Record<AssociatedName, TiffDirectory>>;
  mppX?: number;
  mppY?: number;
  objectivePower?: number;
  properties: Record<string, string>;
}

export interface FormatReader {
  readonly format: SlideLayout["format"];
  /** True when this reader recognises the file; readers are tried most specific first. */
  detect(file: TiffFile): boolean;
  layout(file: TiffFile, name: string): SlideLayout;
}

/** Microns per pixel from TIFF resolution tags, when they are in real units and plausible for a microscope. */
export function mppFromResolution(resolution: number | undefined, unit: number): number | undefined {
  if (!resolution || resolution <= 0) return undefined;
  const micronsPerUnit = unit === 3 ? 10_000 : unit === 2 ? 25_400 : unit === 4 ? 1_000 : unit === 5 ? 1 : 0;
  if (!micronsPerUnit) return undefined;
  const mpp = micronsPerUnit / resolution;
  // 72 dpi defaults (≈ 350 µm) and absurd values say nothing about the specimen.
  return mpp >= 0.01 && mpp <= 100 ? mpp : undefined;
}

/** Tiled directories that shrink from the first one: a pyramid, largest first. */
export function pyramidOf(candidates: TiffDirectory[]): TiffDirectory[] {
  const tiled = candidates.filter((d) => d.tiled);
  const base = tiled[0];
  if (!base) return [];
  const levels = [base];
  for (const d of tiled.slice(1)) {
    const last = levels[levels.length - 1]!;
    if (d.width < last.width && d.height < last.height && d.samplesPerPixel === base.samplesPerPixel) levels.push(d);
  }
  return levels;
}
