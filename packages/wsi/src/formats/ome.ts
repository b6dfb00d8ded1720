import type { TiffDirectory } from "../tiff/directory";
import { type AssociatedName, type FormatReader, mppFromResolution, pyramidOf } from "./types";

const unitToMicrons: Record<string, number> = { µm: 1, "\u00c2\u00b5m": 1, um: 1, micron: 1, nm: 0.001, mm: 1000, cm: 10_000, m: 1_000_000 };

interface OmeImage {
  name: string;
  ifd: number;
  sizeX: number;
  sizeY: number;
  physicalSizeX?: number;
  physicalSizeY?: number;
  physicalUnitX: string;
  physicalUnitY: string;
}

function attribute(tag: string, name: string): string | undefined {
  return new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
}

/** Reads the few OME-XML fields a slide needs; a full XML parser is not worth the dependency. */
export function parseOmeXml(xml: string): { images: OmeImage[]; objectivePower?: number } {
  const images: OmeImage[] = [];
  for (const match of xml.matchAll(/<(?:\w+:)?Image\b[^>]*>([\s\S]*?)<\/(?:\w+:)?Image>/g)) {
    const imageTag = /<(?:\w+:)?Image\b[^>]*>/.exec(match[0])![0];
    const pixels = /<(?:\w+:)?Pixels\b[^>]*>/.exec(match[1] ?? "")?.[0] ?? "";
    const tiffData = /<(?:\w+:)?TiffData\b[^>]*>/.exec(match[1] ?? "")?.[0] ?? "";
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    images.push({
      name: attribute(imageTag, "Name") ?? "",
      ifd: num(attribute(tiffData, "IFD")) ?? images.length,
      sizeX: num(attribute(pixels, "SizeX")) ?? 0,
      sizeY: num(attribute(pixels, "SizeY")) ?? 0,
      physicalSizeX: num(attribute(pixels, "PhysicalSizeX")),
      physicalSizeY: num(attribute(pixels, "PhysicalSizeY")),
      physicalUnitX: attribute(pixels, "PhysicalSizeXUnit") ?? "µm",
      physicalUnitY: attribute(pixels, "PhysicalSizeYUnit") ?? "µm",
    });
  }
  const magnification = /NominalMagnification="([\d.]+)"/.exec(xml)?.[1];
  return { images, objectivePower: magnification ? Number(magnification) : undefined };
}

function toMicrons(value: number | undefined, unit: string): number | undefined {
  if (!value || !(value > 0)) return undefined;
  const factor = unitToMicrons[unit] ?? unitToMicrons[unit.replace(/^\u00c2/, "")];
  return factor ? value * factor : undefined;
}

/**
 * OME-TIFF (Bio-Formats, QuPath): OME-XML in the first description; each OME Image is a
 * series starting at a main-chain IFD, its pyramid in that IFD's SubIFDs. The largest series
 * is the slide; series named label / macro / thumbnail are the pictures of the glass.
 */
export const omeReader: FormatReader = {
  format: "ome-tiff",
  detect: (file) => /<(\w+:)?OME\b/.test(file.directories[0]!.description),
  layout(file) {
    const ome = parseOmeXml(file.directories[0]!.description);
    const series = ome.images.filter((image) => file.directories[image.ifd]);
    const associated: Partial<Record<AssociatedName, TiffDirectory>> = {};
    let main: OmeImage | undefined;
    for (const image of series) {
      const kind = /label/i.test(image.name) ? "label" : /macro|overview/i.test(image.name) ? "macro" : /thumb/i.test(image.name) ? "thumbnail" : undefined;
      if (kind) associated[kind] ??= file.directories[image.ifd];
      else if (!main || image.sizeX * image.sizeY > main.sizeX * main.sizeY) main = image;
    }
    const base = file.directories[main?.ifd ?? 0]!;
    const levels = pyramidOf([base, ...base.subIfds]);
    const mppX = toMicrons(main?.physicalSizeX, main?.physicalUnitX ?? "µm") ?? mppFromResolution(base.xResolution, base.resolutionUnit);
    const mppY = toMicrons(main?.physicalSizeY, main?.physicalUnitY ?? "µm") ?? mppFromResolution(base.yResolution, base.resolutionUnit);
    const properties: Record<string, string> = { "ome.Series": String(series.length) };
    if (main?.name) properties["ome.ImageName"] = main.name;
    if (base.software) properties["tiff.Software"] = base.software;
    return { format: "ome-tiff", vendor: "ome", levels, associated, mppX, mppY, objectivePower: ome.objectivePower, properties };
  },
};
