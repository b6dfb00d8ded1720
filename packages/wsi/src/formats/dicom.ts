import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { type ByteSource, openFileSource } from "../byte-source";
import { WsiError, isWsiError } from "../errors";
import { type DicomInstance, readDicomInstance } from "../dicom/instance";
import { type DicomImage, dicomAssociated, dicomLevel, groupImages } from "../dicom/levels";
import type { PathFormat, SlideParts, SourceFormat } from "./level-reader";
import type { AssociatedName } from "./types";

const DICM_AT = 128;

export function hasDicomMagic(head: Uint8Array): boolean {
  return head.length >= DICM_AT + 4 && Buffer.from(head.subarray(DICM_AT, DICM_AT + 4)).toString("latin1") === "DICM";
}

/** The slide of one series: VOLUME images as levels (largest first), LABEL, OVERVIEW, THUMBNAIL as pictures. */
async function assembleSeries(name: string, instances: DicomInstance[], close: () => Promise<void>): Promise<SlideParts> {
  const series = new Set(instances.map((i) => i.seriesUid));
  if (series.size > 1) {
    throw new WsiError(
      "UNSUPPORTED_FORMAT",
      `${name}: holds instances of ${series.size} different DICOM series; a slide is one series: put each series in its own folder.`,
    );
  }
  const images = groupImages(instances);
  const volumes = images.filter((i) => i.first.flavour === "VOLUME").sort((a, b) => b.first.totalWidth - a.first.totalWidth);
  const levels: DicomImage[] = [];
  for (const image of volumes) {
    // Other focal planes or optical paths stored as separate instances repeat a size: the first is shown.
    if (!levels.some((l) => l.first.totalWidth === image.first.totalWidth && l.first.totalHeight === image.first.totalHeight)) levels.push(image);
  }
  if (levels.length === 0) {
    throw new WsiError(
      "UNSUPPORTED_FORMAT",
      `${name}: has no VOLUME image (only ${[...new Set(images.map((i) => i.first.flavour.toLowerCase()))].join(", ")}); give the series' pyramid levels too.`,
    );
  }
  const associated: Partial<Record<AssociatedName, ReturnType<typeof dicomAssociated>>> = {};
  for (const [flavour, as] of [
    ["LABEL", "label"],
    ["OVERVIEW", "macro"],
    ["THUMBNAIL", "thumbnail"],
  ] as const) {
    const image = images.find((i) => i.first.flavour === flavour);
    if (image) associated[as] = dicomAssociated(image);
  }
  const base = levels[0]!.first;
  const sizes = await Promise.all(instances.map((i) => i.source.size()));
  return {
    format: "dicom",
    vendor: base.manufacturer || "dicom",
    bigTiff: false,
    fileSize: sizes.reduce((a, b) => a + b, 0),
    levels: levels.map(dicomLevel),
    associated,
    mppX: base.mppX,
    mppY: base.mppY,
    objectivePower: base.objectivePower,
    properties: {
      "dicom.Manufacturer": base.manufacturer,
      "dicom.ManufacturerModelName": base.model,
      "dicom.StudyInstanceUID": base.studyUid,
      "dicom.SeriesInstanceUID": base.seriesUid,
      "dicom.TransferSyntaxUID": base.transferSyntax,
      "dicom.Instances": String(instances.length),
    },
    close,
  };
}

/** One `.dcm` file: a single-instance slide (one level, or a TILED_FULL pyramid level alone). */
export const dicomFormat: SourceFormat = {
  name: "dicom",
  claims: async (_source, head) => hasDicomMagic(head),
  async open(source: ByteSource) {
    const instance = await readDicomInstance(source);
    if (instance.concatenation && instance.concatenation.total > 1) {
      throw new WsiError(
        "UNSUPPORTED_FORMAT",
        `${source.name}: is instance ${instance.concatenation.number} of a concatenation of ${instance.concatenation.total}; open the series folder instead of one file.`,
      );
    }
    return assembleSeries(source.name, [instance], async () => {});
  },
};

async function fileHasDicomMagic(path: string): Promise<boolean> {
  const source = await openFileSource(path).catch(() => undefined);
  if (!source) return false;
  try {
    const size = await source.size();
    return size >= DICM_AT + 4 && hasDicomMagic(await source.read(0, DICM_AT + 4));
  } finally {
    await source.close();
  }
}

async function dicomFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => join(folder, e.name))
    .sort();
  const flags = await Promise.all(files.map(fileHasDicomMagic));
  return files.filter((_, i) => flags[i]);
}

/** A folder holding the instances of one series (levels, concatenation parts, label, overview). */
export const dicomFolderFormat: PathFormat = {
  name: "dicom-series",
  claims: async (path, isFolder) => isFolder && (await dicomFilesIn(path)).length > 0,
  async open(path) {
    const name = path.split("/").filter(Boolean).pop() ?? path;
    const sources: ByteSource[] = [];
    const closeAll = async () => {
      await Promise.all(sources.map((s) => s.close().catch(() => {})));
    };
    try {
      const instances: DicomInstance[] = [];
      for (const file of await dicomFilesIn(path)) {
        const source = await openFileSource(file);
        sources.push(source);
        try {
          instances.push(await readDicomInstance(source));
        } catch (error) {
          // Other DICOM objects beside the slide (a DICOMDIR, a report) are not part of it.
          if (isWsiError(error) && error.code === "UNSUPPORTED_FORMAT" && /not a whole-slide image/.test(error.message)) continue;
          throw error;
        }
      }
      if (instances.length === 0) throw new WsiError("UNSUPPORTED_FORMAT", `${path}: holds DICOM files but no whole-slide image instance.`);
      return await assembleSeries(name, instances, closeAll);
    } catch (error) {
      await closeAll();
      throw error;
    }
  },
};
