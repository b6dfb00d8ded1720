import { ApiError, createContext, expectChunk, httpStatusOf, isUuid, readBoundedBody, receiveChunk } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "@/server/deps";
import { chunkLimits } from "@/server/request-body";

/**
 * One chunk of a resumable upload: raw bytes, with their SHA-256 in `x-chunk-sha256`. The caller
 * is authenticated and the upload found before the body is read; the body is bounded by the chunk's size.
 */
export async function PUT(request: Request, { params }: { params: Promise<{ id: string; index: string }> }) {
  const { id, index } = await params;
  const deps = await getDeps();
  const context = await createContext(deps, { headers: request.headers, userId: await currentUserId() });
  if (!context.user) return Response.json({ error: "Sign in to upload." }, { status: 401 });
  if (!context.lab) return Response.json({ error: "Your account belongs to no lab." }, { status: 403 });
  if (!isUuid(id)) return Response.json({ error: "Upload not found." }, { status: 404 });
  try {
    const expected = await expectChunk(deps.db, context.lab.labId, id, Number(index));
    const bytes = await readBoundedBody(request, chunkLimits(expected));
    await receiveChunk(deps.db, deps.store, context.lab.labId, id, Number(index), bytes, request.headers.get("x-chunk-sha256") ?? "");
    return Response.json({ ok: true });
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    console.error(error);
    return Response.json({ error: "The chunk could not be stored; it will be retried." }, { status: 500 });
  }
}
