import type { Readable } from "node:stream";

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

/** One interface for the local folder and S3: what the hub, workers and tests use. */
export interface ObjectStore {
  readonly kind: "local" | "s3";
  put(key: string, body: Uint8Array | Readable, options?: { contentType?: string }): Promise<void>;
  /** The whole object, or `length` bytes from `offset`. */
  get(key: string, range?: { offset: number; length: number }): Promise<Buffer>;
  getStream(key: string): Promise<Readable>;
  head(key: string): Promise<ObjectInfo | null>;
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<number>;
}

/** Random-access reads of one object: the slide engine's ByteSource shape. */
export interface RangeReader {
  readonly name: string;
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}
