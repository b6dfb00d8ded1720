import type { StorageEnv } from "./env";
import { createLocalStore } from "./local-store";
import { createS3Store } from "./s3-store";
import type { ObjectStore, RangeReader } from "./types";
import { StorageError } from "./errors";

export { StorageError, checkKey, type StorageErrorCode } from "./errors";
export { readStorageEnv, type StorageEnv } from "./env";
export { createLocalStore } from "./local-store";
export { createS3Client, createS3Store, type S3Settings } from "./s3-store";
export type { ObjectInfo, ObjectStore, RangeReader } from "./types";

export function createObjectStore(env: StorageEnv): ObjectStore {
  if (env.S3_BUCKET) {
    return createS3Store({
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    });
  }
  return createLocalStore(env.STORAGE_DIR);
}

/** Ranged reads of one object (local positional reads, S3 ranged GETs): a slide engine ByteSource. */
export async function openRangeReader(store: ObjectStore, key: string): Promise<RangeReader> {
  const info = await store.head(key);
  if (!info) throw new StorageError("NOT_FOUND", `no object ${key}.`);
  return {
    name: key.split("/").pop()!,
    size: async () => info.size,
    async read(offset, length) {
      if (offset + length > info.size) throw new StorageError("IO_ERROR", `${key}: read past the end (${offset + length} > ${info.size}).`);
      if (length === 0) return new Uint8Array(0);
      const bytes = await store.get(key, { offset, length });
      if (bytes.length !== length) throw new StorageError("IO_ERROR", `${key}: short read (${bytes.length} of ${length} bytes).`);
      return bytes;
    },
    close: async () => {},
  };
}
