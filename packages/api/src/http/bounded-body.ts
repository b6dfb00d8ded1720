import { ApiError } from "../errors";

export interface BodyLimits {
  /** Most bytes accepted; more ends the read at once (413), whatever Content-Length said. */
  limit: number;
  /** The whole body must have arrived by then (408): a client that declares 10 MB and sends 10 bytes holds nothing for long. */
  timeoutMs: number;
}

/** Body limits of the hub's routes: small JSON bodies, and the snapshots a presenter keeps. */
export const BODY_LIMITS = {
  /** Enrolment, board views, heartbeats, order failures, upload start. */
  smallJson: 64 * 1024,
  /** A tRPC call of a signed-in user (a batch of procedures with their inputs). */
  trpc: 1024 * 1024,
  /** A tRPC call without a session: every procedure refuses it, so there is little to read. */
  trpcAnonymous: 16 * 1024,
  /** An index batch: up to 500 records, each with a 256-pixel thumbnail. */
  indexBatch: 48 * 1024 * 1024,
} as const;

export const MAX_TRPC_BATCH = 20;

export function bodyTooLarge(limit: number): ApiError {
  return new ApiError("TOO_LARGE", `The request body is larger than this route accepts (${limit} bytes); send less.`);
}

/**
 * Reads a request body while counting it: refused before reading when Content-Length is too
 * large, and cut off as soon as the bytes received pass the limit (chunked bodies included), or
 * when the body has not all arrived within the time allowed. Call it after authentication.
 */
export async function readBoundedBody(request: Request, { limit, timeoutMs }: BodyLimits): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    // Not awaited: a stalled client's stream may never settle its cancel.
    void request.body?.cancel().catch(() => {});
    throw bodyTooLarge(limit);
  }
  if (!request.body) return new Uint8Array(new ArrayBuffer(0));
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timedOut]);
      if (next === "timeout") throw new ApiError("TIMEOUT", "The request body did not arrive in time; check the connection and send it again.");
      if (next.done) break;
      received += next.value.byteLength;
      if (received > limit) throw bodyTooLarge(limit);
      parts.push(next.value);
    }
  } catch (error) {
    // Not awaited: cancelling a stalled client's stream can wait for ever on its socket.
    void reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const body = new Uint8Array(received);
  let at = 0;
  for (const part of parts) {
    body.set(part, at);
    at += part.byteLength;
  }
  return body;
}

/** A bounded body parsed as JSON; anything that is not JSON answers BAD_REQUEST. */
export async function readBoundedJson(request: Request, limits: BodyLimits): Promise<unknown> {
  const bytes = await readBoundedBody(request, limits);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ApiError("BAD_REQUEST", "The request body is not valid JSON.");
  }
}
