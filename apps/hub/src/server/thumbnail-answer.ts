import { createHash } from "node:crypto";
import { type TileAccess, readThumbnail } from "@pathx/api";
import { type ObjectStore, StorageError } from "@pathx/storage";

const plain = (status: number, text: string) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

/**
 * The thumbnail route's answer once access is decided: another lab's slide and a missing one
 * both answer 404; a thumbnail the browser has already is a 304.
 */
export async function answerThumbnail(
  request: Request,
  access: "unauthenticated" | "denied" | TileAccess,
  openStore: () => Promise<ObjectStore>,
): Promise<Response> {
  if (access === "unauthenticated") return plain(401, "Sign in to view slides.");
  if (access === "denied" || !access.thumbnailKey) return plain(404, "Not found.");
  // A thumbnail under a key never changes (a new one gets a new key), so the key is the version.
  const etag = `"${createHash("sha1").update(access.thumbnailKey).digest("base64url").slice(0, 22)}"`;
  const headers = { etag, "cache-control": "private, max-age=3600", "content-type": "image/jpeg", "x-content-type-options": "nosniff" };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  try {
    const body = await readThumbnail(await openStore(), access.thumbnailKey);
    return new Response(new Uint8Array(body), { status: 200, headers: { ...headers, "content-length": String(body.length) } });
  } catch (error) {
    if (error instanceof StorageError && error.httpStatus < 500) return plain(error.httpStatus, error.spec.message);
    throw error;
  }
}
