import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { WsiError } from "../errors";

export interface PyramidInfo {
  name: string;
  /** File extension of tiles, also the .dzi Format attribute: "jpeg" or "png". */
  format: string;
  width: number;
  height: number;
  tileSize: number;
  overlap: number;
  /** Deep Zoom level numbers, 0 … max. */
  levels: number[];
}

/**
 * Where tiles go. The builder calls begin, then writeTile for every tile (concurrently), then
 * commit with the .dzi text — or abort on failure. A sink must not expose a pyramid before commit.
 */
export interface TileSink {
  begin(info: PyramidInfo): Promise<void>;
  writeTile(level: number, col: number, row: number, data: Uint8Array): Promise<void>;
  commit(dzi: string): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Writes `DIR/<name>.dzi` and `DIR/<name>_files/<level>/<col>_<row>.<format>`, the layout of
 * `vips dzsave`. Tiles go to a hidden folder first; commit moves them in and writes the .dzi
 * last, so a crash never leaves a pyramid that looks complete.
 */
export function createFolderSink(outDir: string): TileSink {
  let staging = "";
  let info: PyramidInfo | undefined;
  return {
    async begin(pyramid) {
      info = pyramid;
      if (!/^[^/\\\0]+$/.test(pyramid.name) || pyramid.name.startsWith(".")) {
        throw new WsiError("INVALID_OPTIONS", `"${pyramid.name}" cannot be used as a pyramid name.`);
      }
      await mkdir(outDir, { recursive: true }).catch((error: unknown) => {
        throw new WsiError("IO_ERROR", `cannot create the output folder ${outDir} (${String(error)}).`, { cause: error });
      });
      // Leftovers of an earlier run of the same pyramid that crashed.
      for (const entry of await readdir(outDir)) {
        if (entry.startsWith(`.${pyramid.name}.partial-`)) await rm(join(outDir, entry), { recursive: true, force: true });
      }
      staging = join(outDir, `.${pyramid.name}.partial-${randomBytes(4).toString("hex")}`);
      for (const level of pyramid.levels) await mkdir(join(staging, `${pyramid.name}_files`, String(level)), { recursive: true });
    },
    async writeTile(level, col, row, data) {
      // Synchronous on purpose: a tile file is small, and writeFileSync costs ~0.03 ms against
      // ~0.2 ms for three thread-pool round trips (open, write, close) that would also take
      // turns with the JPEG codec; concurrent creates in one folder contend in the kernel.
      writeFileSync(join(staging, `${info!.name}_files`, String(level), `${col}_${row}.${info!.format}`), data);
    },
    async commit(dzi) {
      const name = info!.name;
      await writeFile(join(staging, `${name}.dzi`), dzi);
      const finalDzi = join(outDir, `${name}.dzi`);
      const finalFiles = join(outDir, `${name}_files`);
      const old = `${staging}.old`;
      await mkdir(old);
      // The .dzi goes first on the way out and last on the way in: readers key on it.
      await rename(finalDzi, join(old, `${name}.dzi`)).catch(ignoreMissing);
      await rename(finalFiles, join(old, `${name}_files`)).catch(ignoreMissing);
      await rename(join(staging, `${name}_files`), finalFiles);
      await rename(join(staging, `${name}.dzi`), finalDzi);
      await rm(old, { recursive: true, force: true });
      await rm(staging, { recursive: true, force: true });
    },
    async abort() {
      if (staging) await rm(staging, { recursive: true, force: true });
    },
  };
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== "ENOENT") throw error;
}
