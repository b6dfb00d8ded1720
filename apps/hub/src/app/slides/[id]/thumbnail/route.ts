import { createHash } from "node:crypto";
import { readThumbnail } from "@pathx/api";
import { StorageError } from "@pathx/storage";
import { getDeps } from "@/server/deps";
import { decideTileAccess } from "@/server/tile-access";

const plain = (status: number, text: string) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

/**
 * A slide's thumbnail for the dashboard, case and consult pages (the viewer's tiles come from
 * the tile service). Another lab's slide and a missing one both answer 404.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const access = await decideTileAccess(request.headers, id);
  if (access === "unauthenticated") return plain(401, "Sign in to view slides.");
  if (access === "denied" || !access.thumbnailKey) return plain(404, "Not found.");
  // A thumbnail under a key never changes (a new one gets a new key), so the key is the version.
  const etag = `"${createHash("sha1").update(access.thumbnailKey).digest("base64url").slice(0, 22)}"`;
  const headers = { etag, "cache-control": "private, max-age=3600", "content-type": "image/jpeg", "x-content-type-options": "nosniff" };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  try {
    const body = await readThumbnail((await getDeps()).store, access.thumbnailKey);
    return new Response(new Uint8Array(body), { status: 200, headers: { ...headers, "content-length": String(body.length) } });
  } catch (error) {
    if (error instanceof StorageError && error.httpStatus < 500) return plain(error.httpStatus, error.spec.message);
    throw error;
  }
}
