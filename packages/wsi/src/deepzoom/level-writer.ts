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

/** Called for every finished tile; `pixels()` copies the tile out only if the caller needs it. */
export type EmitTile = (tile: TileRect, pixels: () => RgbImage) => void;

/**
 * Takes one Deep Zoom level's pixels a row at a time, cuts tiles as soon as their rows are
 * in, and feeds the next smaller level by 2×2 box shrinking. It holds only the rows of one
 * tile row (tile size + 2 × overlap), never the level.
 */
export class LevelWriter {
  private readonly rowBytes: number;
  private readonly buffer: Buffer;
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
    this.buffer = Buffer.allocUnsafe((tileSize + 2 * overlap + 2) * this.rowBytes);
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
      this.dropUnneededRows();
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
      this.emit({ level: this.level, col, row, x, y, width, height }, () => this.copyTile(x, y, width, height));
    }
  }

  private copyTile(x: number, y: number, width: number, height: number): RgbImage {
    const data = Buffer.allocUnsafe(width * height * 3);
    const tileRowBytes = width * 3;
    for (let r = 0; r < height; r++) {
      const from = (y + r - this.first) * this.rowBytes + x * 3;
      this.buffer.copy(data, r * tileRowBytes, from, from + tileRowBytes);
    }
    return { width, height, data };
  }

  private dropUnneededRows(): void {
    let keepFrom = this.tileRow * this.tileSize - this.overlap;
    const last = this.rowsReceived - 1;
    // An even row still waiting for its partner must stay for the shrink.
    if (this.child && last % 2 === 0 && last < keepFrom) keepFrom = last;
    const drop = Math.min(this.count, keepFrom - this.first);
    if (drop <= 0) return;
    this.buffer.copyWithin(0, drop * this.rowBytes, this.count * this.rowBytes);
    this.first += drop;
    this.count -= drop;
  }
}
