import { basename } from "node:path";
import { buildDeepZoom, createFolderSink, openSlideAt, WsiError } from "@pathx/wsi";
import { onThreads } from "@pathx/wsi/tile-threads";
import { createProgressLine } from "./progress";

export interface TileCommandOptions {
  slide: string;
  out: string;
  tileSize: number | "source";
  overlap: number;
  quality: number;
  format: "jpeg" | "png";
  passthrough: boolean;
  name?: string;
  /** Worker threads besides this one (each decodes, cuts and encodes a share of the levels). */
  threads: number;
}

/** `pathx tile`: writes DIR/<name>.dzi and DIR/<name>_files/, then one summary line. */
export async function runTileCommand(options: TileCommandOptions, io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<void> {
  const slide = await openSlideAt(options.slide);
  const progress = createProgressLine(io.stderr, `tiling ${basename(options.slide)}`);
  const started = performance.now();
  try {
    const result = await buildDeepZoom(slide, createFolderSink(options.out), {
      tileSize: options.tileSize,
      overlap: options.overlap,
      quality: options.quality,
      format: options.format,
      passthrough: options.passthrough,
      name: options.name,
      threads: onThreads(options.threads, options.slide),
      onProgress: (p) => progress.update(p.tilesWritten, p.tilesTotal),
    });
    progress.done();
    const seconds = (performance.now() - started) / 1000;
    const megapixels = (slide.metadata.width * slide.metadata.height) / 1e6;
    const copied = result.tilesPassedThrough ? ` (${result.tilesPassedThrough} passed through)` : "";
    io.stdout.write(
      `${result.tilesWritten} tiles written${copied} to ${options.out}/${result.name}.dzi in ${seconds.toFixed(2)} s, ${(megapixels / seconds).toFixed(1)} MP/s\n`,
    );
  } catch (error) {
    progress.done();
    throw error instanceof WsiError ? error : new WsiError("IO_ERROR", String(error), { cause: error });
  } finally {
    await slide.close();
  }
}
