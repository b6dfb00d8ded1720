import { createHash } from "node:crypto";
import { StorageError } from "@pathx/storage";
import { getDeps } from "@/server/deps";
import { decideTileAccess } from "@/server/tile-access";

const tilePath = /^(slide\.dzi|slide_files\/\d{1,2}\/\d{1,6}_\d{1,6}\.(jpeg|png)|thumbnail)$/;
const notFound = () => new Response("Not found", { status: 404, headers: { "cache-control": "no-store" } });

/**
 * Deep Zoom descriptor and tiles of a slide, authorised on every request. Another lab's slide
 * and a missing one both answer 404. Tiles under one pyramid prefix never change, so the
 * prefix names the version in the ETag.
 */
export async function GET(request: Request, { params }: { params: Promise<{ slideId: string; path: string[] }> }) {
  const { slideId, path } = await params;
  const relative = path.join("/");
  if (!tilePath.test(relative)) return notFound();
  const access = await decideTileAccess(request.headers, slideId);
  if (access === "unauthenticated") return new Response("Sign in to view slides.", { status: 401, headers: { "cache-control": "no-store" } });
  if (access === "denied") return notFound();
  const { store } = await getDeps();
  const slide = access;
  const key = relative === "thumbnail" ? slide.thumbnailKey : slide.tilesPrefix && `${slide.tilesPrefix}/${relative}`;
  if (!key) return notFound();
  // Objects under a key never change (a new pyramid gets a new prefix), so the key is the version.
  const etag = `"${createHash("sha1").update(key).digest("base64url").slice(0, 22)}"`;
  const headers = {
    etag,
    "cache-control": "private, max-age=3600",
    "content-type": relative.endsWith(".dzi") ? "application/xml" : relative.endsWith(".png") ? "image/png" : "image/jpeg",
  };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  try {
    const body = await store.get(key);
    return new Response(new Uint8Array(body), { status: 200, headers: { ...headers, "content-length": String(body.length) } });
  } catch (error) {
    if (error instanceof StorageError && error.code === "NOT_FOUND") return notFound();
    throw error;
  }
}
