import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { Readable } from "node:stream";
import { StorageError, checkKey } from "./errors";
import type { ObjectInfo, ObjectStore } from "./types";

export interface S3Settings {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
}

export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle ?? Boolean(settings.endpoint),
    credentials:
      settings.accessKeyId && settings.secretAccessKey ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } : undefined,
    // Without these the SDK streams uploads aws-chunked, and S3-compatible servers that do not
    // understand that framing store it inside the object (silent corruption).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404;
}

export function createS3Store(settings: S3Settings, client = createS3Client(settings)): ObjectStore {
  const Bucket = settings.bucket;
  const fail = (key: string, error: unknown): never => {
    if (isNotFound(error)) throw new StorageError("NOT_FOUND", `no object ${key}.`, { cause: error });
    throw new StorageError("IO_ERROR", `object store request for ${key} failed (${(error as Error).name ?? String(error)}).`, { cause: error });
  };
  const store: ObjectStore = {
    kind: "s3",
    async put(key, body, options) {
      checkKey(key);
      try {
        if (body instanceof Uint8Array) {
          await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: options?.contentType }));
        } else {
          // Multipart for streams of unknown length; parts of 8 MiB, 4 at a time.
          await new Upload({
            client,
            params: { Bucket, Key: key, Body: body, ContentType: options?.contentType },
            partSize: 8 * 1024 * 1024,
            queueSize: 4,
          }).done();
        }
      } catch (error) {
        fail(key, error);
      }
    },
    async get(key, range) {
      checkKey(key);
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket, Key: key, Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined }),
        );
        return Buffer.from(await response.Body!.transformToByteArray());
      } catch (error) {
        return fail(key, error);
      }
    },
    async getStream(key) {
      checkKey(key);
      try {
        const response = await client.send(new GetObjectCommand({ Bucket, Key: key }));
        return response.Body as Readable;
      } catch (error) {
        return fail(key, error);
      }
    },
    async head(key) {
      checkKey(key);
      try {
        const response = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { key, size: Number(response.ContentLength ?? 0), etag: (response.ETag ?? "").replaceAll('"', "") };
      } catch (error) {
        if (isNotFound(error)) return null;
        return fail(key, error);
      }
    },
    async list(prefix) {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: Number(o.Size ?? 0), etag: (o.ETag ?? "").replaceAll('"', "") });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async delete(key) {
      checkKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key })).catch((e: unknown) => fail(key, e));
    },
    async deletePrefix(prefix) {
      const objects = await store.list(prefix);
      for (let i = 0; i < objects.length; i += 1000) {
        await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })) } }));
      }
      return objects.length;
    },
  };
  return store;
}
