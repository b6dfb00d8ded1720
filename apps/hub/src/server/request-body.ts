import { type BodyLimits, readBoundedJson } from "@pathx/api";
import { hubEnv } from "../env";

/** A route's body limits: `limit` bytes, arriving within the hub's body timeout. */
export function bodyLimits(limit: number): BodyLimits {
  return { limit, timeoutMs: hubEnv().BODY_TIMEOUT_MS };
}

/** A large body from a lab (an upload chunk of exactly `bytes` bytes, an index batch): the chunk timeout. */
export function chunkLimits(bytes: number): BodyLimits {
  return { limit: bytes, timeoutMs: hubEnv().CHUNK_TIMEOUT_MS };
}

/** A small JSON body, read after the caller was authenticated. */
export function readSmallJson(request: Request, limit: number): Promise<unknown> {
  return readBoundedJson(request, bodyLimits(limit));
}
