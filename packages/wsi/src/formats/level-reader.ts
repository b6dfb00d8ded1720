import type { ByteSource } from "../byte-source";
import type { RgbImage } from "../image";
import type { AssociatedName } from "./types";

/** A raw tile as stored; JPEG tiles come back as a standalone JPEG file a browser can show. */
export interface RawTile {
  kind: "jpeg" | "other";
  bytes: Uint8Array;
}

/**
 * One pyramid level of any format: its geometry and how to get one tile. The slide checks
 * level, column and row before calling, so a reader only sees tiles inside its grid.
 */
export interface LevelReader {
  readonly width: number;
  readonly height: number;
  readonly tileWidth: number;
  readonly tileHeight: number;
  /** "jpeg", "jpeg2000", "deflate", …: for `pathx info`. */
  readonly compression: string;
  /** The tile's stored bytes (JPEG: standalone, browser-ready), without decoding. */
  readRaw(col: number, row: number): Promise<RawTile>;
  /**
   * The tile decoded to RGB: full tileWidth × tileHeight, or (edge tiles only) at least the
   * part inside the image. `into`, when large enough, may receive the pixels.
   */
  decode(col: number, row: number, into?: Buffer): Promise<RgbImage>;
}

/** A picture of the glass (label, macro, thumbnail): small, decoded whole. */
export interface AssociatedReader {
  readonly width: number;
  readonly height: number;
  readonly compression: string;
  read(): Promise<RgbImage>;
}

export type SlideFormat = "aperio-svs" | "ome-tiff" | "generic-tiff" | "hamamatsu-ndpi" | "dicom" | "openslide";

/** What a format reader hands the slide: levels largest first, pictures of the glass, metadata. */
export interface SlideParts {
  format: SlideFormat;
  vendor: string;
  bigTiff: boolean;
  fileSize: number;
  levels: LevelReader[];
  associated: Partial<Record<AssociatedName, AssociatedReader>>;
  mppX?: number;
  mppY?: number;
  objectivePower?: number;
  properties: Record<string, string>;
  /** Releases what the reader holds beyond the byte source (native handles, extra files). */
  close?(): Promise<void>;
}

/**
 * A reader of single-file slides given as bytes (local file or S3 object). `claims` looks at
 * the first bytes (at least 132, fewer only when the file is shorter) and may read more.
 */
export interface SourceFormat {
  readonly name: string;
  claims(source: ByteSource, head: Uint8Array): Promise<boolean>;
  open(source: ByteSource, head: Uint8Array): Promise<SlideParts>;
  /**
   * Optional: reads the file's structure once and says whether a path reader (OpenSlide) may
   * know its layout better; `open` then uses what was read. Lets a plain file skip the costlier
   * question to the path reader (a second open of the file by libopenslide).
   */
  inspect?(source: ByteSource, head: Uint8Array): Promise<{ mayNeedPathReader: boolean; open(): Promise<SlideParts> }>;
}

/**
 * A reader of slides that need a path: a folder (DICOM series), a file with companions
 * (MRXS), or a native library that opens files itself (OpenSlide).
 */
export interface PathFormat {
  readonly name: string;
  /** True when this reader should open the path; `isFolder` says what the path is. */
  claims(path: string, isFolder: boolean): Promise<boolean>;
  open(path: string): Promise<SlideParts>;
}
