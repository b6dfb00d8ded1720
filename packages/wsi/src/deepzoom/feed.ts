import { WsiError } from "../errors";
import type { RgbImage } from "../image";
import type { Slide, SlideLevel } from "../slide";
import { shrinkRowPair } from "../image";
import type { DeepZoomLevel } from "./plan";

/** Takes a level's pixels a row at a time (a LevelWriter, or a RowPairShrinker). */
export interface RowSink {
  /** The slot for the next row; fill all width × 3 bytes, then call commitRow(). */
  nextRow(): Buffer;
  commitRow(): void;
  readonly rowsReceived: number;
}

/**
 * A level whose tiles are not wanted, only its half-size child: holds two rows, not a tile row.
 * The last row of an odd height is shrunk with itself, as LevelWriter does.
 */
export class RowPairShrinker implements RowSink {
  private readonly rows: Buffer;
  private readonly rowBytes: number;
  private received = 0;

  constructor(
    private readonly level: DeepZoomLevel,
    private readonly child: RowSink,
  ) {
    this.rowBytes = level.width * 3;
    this.rows = Buffer.allocUnsafe(2 * this.rowBytes);
  }

  get rowsReceived(): number {
    return this.received;
  }

  nextRow(): Buffer {
    const at = (this.received % 2) * this.rowBytes;
    return this.rows.subarray(at, at + this.rowBytes);
  }

  commitRow(): void {
    const y = this.received++;
    if (y % 2 === 1 || y === this.level.height - 1) {
      shrinkRowPair(this.rows, 0, (y % 2) * this.rowBytes, this.level.width, this.child.nextRow(), 0);
      this.child.commitRow();
    }
  }
}

export interface BandTile {
  image: RgbImage;
}

export function checkAborted(signal: AbortSignal | undefined, what = "tiling"): void {
  if (signal?.aborted) throw new WsiError("IO_ERROR", `${what} was cancelled.`);
}

/**
 * Decodes a band (one row of source tiles) into one of two sets of reused buffers, taken in
 * turn: one band is cut into rows while the next decodes on the thread pool.
 */
export function decodeBands<T extends BandTile = BandTile>(
  slide: Slide,
  sourceLevel: number,
  readTile?: (col: number, row: number, into: Buffer) => Promise<T>,
): (row: number) => Promise<T[]> {
  const source = slide.metadata.levels[sourceLevel]!;
  const across = Math.ceil(source.width / source.tileWidth);
  const tileBytes = source.tileWidth * source.tileHeight * 3;
  const buffers = [0, 1].map(() => Array.from({ length: across }, () => Buffer.allocUnsafe(tileBytes)));
  const read = readTile ?? (async (col: number, row: number, into: Buffer) => ({ image: await slide.decodeTile(sourceLevel, col, row, into) }) as T);
  return (row) => Promise.all(buffers[row % 2]!.map((into, col) => read(col, row, into)));
}

/**
 * Streams one source level into the LevelWriter of the Deep Zoom level it matches, band by
 * band. A source level a pixel or two narrower than the Deep Zoom level has its edge repeated;
 * a wider one is cut.
 */
export async function feedSourceLevel<T extends BandTile>(options: {
  source: SlideLevel;
  root: DeepZoomLevel;
  top: RowSink;
  readBand: (row: number) => Promise<T[]>;
  /** Called with a band before its rows go in (tiles emitted meanwhile belong to it). */
  onBand?: (band: T[]) => void;
  /** Called after each band: the place to wait for encoders to catch up. */
  afterBand?: () => Promise<void>;
  signal?: AbortSignal;
}): Promise<void> {
  const { source, root, top } = options;
  const across = Math.ceil(source.width / source.tileWidth);
  const down = Math.ceil(source.height / source.tileHeight);
  const rowsWanted = Math.min(source.height, root.height);
  const copyWidth = Math.min(source.width, root.width);
  let next = options.readBand(0);
  let lastRow: Buffer | undefined;
  for (let bandRow = 0; bandRow < down && bandRow * source.tileHeight < rowsWanted; bandRow++) {
    checkAborted(options.signal);
    const band = await next;
    if (bandRow + 1 < down) next = options.readBand(bandRow + 1);
    options.onBand?.(band);
    const y0 = bandRow * source.tileHeight;
    const bandHeight = Math.min(source.tileHeight, rowsWanted - y0);
    for (let y = 0; y < bandHeight; y++) {
      const out = top.nextRow();
      let x = 0;
      for (let col = 0; col < across && x < copyWidth; col++) {
        const tile = band[col]!.image;
        const take = Math.min(source.tileWidth, copyWidth - x);
        out.set(tile.data.subarray(y * tile.width * 3, (y * tile.width + take) * 3), x * 3);
        x += take;
      }
      for (; x < root.width; x++) out.copy(out, x * 3, (copyWidth - 1) * 3, copyWidth * 3);
      if (y0 + y === rowsWanted - 1 && rowsWanted < root.height) lastRow = Buffer.from(out);
      top.commitRow();
    }
    await options.afterBand?.();
  }
  await next.catch(() => {}); // a prefetched band past the rows wanted
  while (lastRow && top.rowsReceived < root.height) {
    lastRow.copy(top.nextRow());
    top.commitRow();
  }
}
