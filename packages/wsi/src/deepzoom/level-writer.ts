import { type RgbImage, shrinkRowPair } from "../image";
import type { DeepZoomLevel } from "./plan";

export interface TileRect {
  level: DeepZoomLevel;
  col: number;
  row: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Called for every finished tile with a strided view into the writer's rows: no copy. The
 * view stays valid after the call (the writer moves on to a fresh buffer), so encoding may
 * run later on the thread pool.
 */
export type EmitTile = (tile: TileRect, pixels: RgbImage) => void;

/**
 * Takes one Deep Zoom level's pixels a row at a time, cuts tiles as soon as their rows are
 * in, and feeds the next smaller level by 2×2 box shrinking. It holds only the rows of one
 * tile row (tile size + 2 × overlap), never the level.
 */
export class LevelWriter {
  private readonly rowBytes: number;
  private readonly capacity: number;
  private buffer: Buffer;
  private first = 0; // image row held at buffer row 0
  private count = 0;
  private tileRow = 0;

  constructor(
    readonly level: DeepZoomLevel,
    private readonly tileSize: number,
    private readonly overlap: number,
    private readonly emit: EmitTile,
    private readonly child?: LevelWriter,
  ) {
    this.rowBytes = level.width * 3;
    // +1 row: the unpaired row kept for shrinking; +1 row of slack for strided reads at the end.
    this.capacity = Math.min(level.height, tileSize + 2 * overlap + 1) + 1;
    this.buffer = Buffer.allocUnsafe(this.capacity * this.rowBytes);
  }

  get rowsReceived(): number {
    return this.first + this.count;
  }

  /** The slot for the next row; fill all width × 3 bytes, then call commitRow(). */
  nextRow(): Buffer {
    const at = this.count * this.rowBytes;
    return this.buffer.subarray(at, at + this.rowBytes);
  }

  commitRow(): void {
    const y = this.first + this.count;
    if (y >= this.level.height) throw new Error(`level ${this.level.level} received more rows than its height`);
    this.count++;
    if (this.child) {
      if (y % 2 === 1) this.shrink(y - 1, y);
      else if (y === this.level.height - 1) this.shrink(y, y);
    }
    while (this.tileRow < this.level.rows && this.rowsReceived >= this.rowEnd(this.tileRow)) {
      this.emitTileRow(this.tileRow);
      this.tileRow++;
      this.startNextBuffer();
    }
  }

  private rowEnd(row: number): number {
    return Math.min(this.level.height, (row + 1) * this.tileSize + this.overlap);
  }

  private shrink(top: number, bottom: number): void {
    const child = this.child!;
    shrinkRowPair(this.buffer, (top - this.first) * this.rowBytes, (bottom - this.first) * this.rowBytes, this.level.width, child.nextRow(), 0);
    child.commitRow();
  }

  private emitTileRow(row: number): void {
    const { tileSize: size, overlap } = this;
    const y = Math.max(0, row * size - overlap);
    const height = this.rowEnd(row) - y;
    for (let col = 0; col < this.level.cols; col++) {
      const x = Math.max(0, col * size - overlap);
      const width = Math.min(this.level.width, (col + 1) * size + overlap) - x;
      const start = (y - this.first) * this.rowBytes + x * 3;
      this.emit({ level: this.level, col, row, x, y, width, height }, { width, height, stride: this.level.width, data: this.buffer.subarray(start) });
    }
  }

  /**
   * Tiles just emitted may still be encoding from the current buffer, so rows still needed
   * (the overlap, an unpaired row) move to a new buffer instead of being shifted in place.
   */
  private startNextBuffer(): void {
    let keepFrom = this.tileRow * this.tileSize - this.overlap;
    const last = this.rowsReceived - 1;
    if (this.child && last % 2 === 0 && last < keepFrom) keepFrom = last;
    const drop = Math.min(this.count, Math.max(0, keepFrom - this.first));
    const next = Buffer.allocUnsafe(this.capacity * this.rowBytes);
    this.buffer.copy(next, 0, drop * this.rowBytes, this.count * this.rowBytes);
    this.buffer = next;
    this.first += drop;
    this.count -= drop;
  }
}
