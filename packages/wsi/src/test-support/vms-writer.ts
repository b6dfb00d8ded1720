import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { plainJpeg, restartJpeg } from "./ndpi-writer";
import { tissuePixel } from "./tiff-writer";

export interface VmsOptions {
  /** File name stem: `<name>.vms`, `<name>(c,r).jpg`, `<name>_map2.jpg`, `<name>_macro.jpg`. */
  name?: string;
  /** JPEG images across and down (NoJpegColumns, NoJpegRows). */
  columns: number;
  rows: number;
  /** Each image's size: a multiple of 16 × `restartInterval` wide and of 8 high. */
  imageWidth: number;
  imageHeight: number;
  /** MCUs per restart interval in the images; default one MCU row of an image. */
  restartInterval?: number;
  micronsPerPixel?: number;
  sourceLens?: number;
  /** Write the macro image (MacroImage); default true. */
  macro?: boolean;
  quality?: number;
}

export interface WrittenVms {
  /** The .vms key file; the images are beside it. */
  path: string;
  /** Every file of the slide, the .vms first. */
  files: string[];
  width: number;
  height: number;
  /** Level-0 colour at (x, y). */
  pixel(x: number, y: number): [number, number, number];
}

/** The map image is the slide at this fraction of its size (the scanner's overview level). */
const MAP_DIVISOR = 8;

/**
 * A Hamamatsu VMS slide as OpenSlide reads it (src/openslide-vendor-hamamatsu.c): a key file
 * (group `[Virtual Microscope Specimen]`: NoLayers, NoJpegColumns, NoJpegRows, ImageFile and
 * ImageFile(x,y), MapFile, MacroImage, PhysicalWidth/Height in nm, SourceLens) and beside it one
 * baseline JPEG per image, all the same size and restart-marked (4:2:2, MCU rows of 8 px, the
 * same interval in each), plus the map, itself restart-marked. No OptimisationFile: OpenSlide
 * then finds the restart markers by scanning, as it does for such slides from the field.
 */
export async function writeVms(folder: string, options: VmsOptions): Promise<WrittenVms> {
  const name = options.name ?? "slide";
  const { columns, rows, imageWidth, imageHeight } = options;
  const quality = options.quality ?? 85;
  const width = columns * imageWidth;
  const height = rows * imageHeight;
  const pixel = tissuePixel;
  const interval = options.restartInterval ?? imageWidth / 16;
  const files: string[] = [];
  const keys: string[] = ["[Virtual Microscope Specimen]", "NoLayers=1", `NoJpegColumns=${columns}`, `NoJpegRows=${rows}`];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const file = c === 0 && r === 0 ? `${name}.jpg` : `${name}(${c},${r}).jpg`;
      const { strip } = restartJpeg({ width: imageWidth, height: imageHeight, restartInterval: interval }, pixel, 1, quality, [
        c * imageWidth,
        r * imageHeight,
      ]);
      await writeFile(join(folder, file), strip);
      keys.push(c === 0 && r === 0 ? `ImageFile=${file}` : `ImageFile(${c},${r})=${file}`);
      files.push(file);
    }
  }
  const mapWidth = width / MAP_DIVISOR;
  const mapHeight = height / MAP_DIVISOR;
  const map = `${name}_map2.jpg`;
  const { strip: mapJpeg } = restartJpeg({ width: mapWidth, height: mapHeight, restartInterval: mapWidth / 16 }, pixel, MAP_DIVISOR, quality);
  await writeFile(join(folder, map), mapJpeg);
  keys.push(`MapFile=${map}`);
  files.push(map);
  if (options.macro ?? true) {
    const macro = `${name}_macro.jpg`;
    await writeFile(
      join(folder, macro),
      plainJpeg(320, 120, () => [170, 60, 60], 1, quality),
    );
    keys.push(`MacroImage=${macro}`);
    files.push(macro);
  }
  const mpp = options.micronsPerPixel ?? 0.46;
  keys.push(`PhysicalWidth=${Math.round(mpp * 1000 * width)}`, `PhysicalHeight=${Math.round(mpp * 1000 * height)}`, `SourceLens=${options.sourceLens ?? 20}`);
  const path = join(folder, `${name}.vms`);
  await writeFile(path, `${keys.join("\r\n")}\r\n`);
  return { path, files: [`${name}.vms`, ...files], width, height, pixel };
}
