import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { ApiError, httpStatusOf } from "../errors";
import { appRouter } from "../routers/index";
import { type ApiDeps, createContext } from "../trpc";
import { BODY_LIMITS, MAX_TRPC_BATCH, readBoundedBody } from "./bounded-body";

/**
 * tRPC over HTTP for any fetch-style server: the caller is known (session resolved) before the
 * body is read, the body is bounded while it streams (smaller without a session), and a batch
 * holds at most MAX_TRPC_BATCH calls.
 */
export async function handleTrpcRequest(
  request: Request,
  options: { endpoint: string; deps: ApiDeps; userId: string | undefined; timeoutMs: number },
): Promise<Response> {
  let req = request;
  if (request.method !== "GET" && request.method !== "HEAD") {
    try {
      const limit = options.userId ? BODY_LIMITS.trpc : BODY_LIMITS.trpcAnonymous;
      const body = await readBoundedBody(request, { limit, timeoutMs: options.timeoutMs });
      req = new Request(request.url, { method: request.method, headers: request.headers, body, signal: request.signal });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return Response.json(
        { error: { message: error.message, code: -32600, data: { code: error.code, httpStatus: httpStatusOf(error) } } },
        { status: httpStatusOf(error) },
      );
    }
  }
  return fetchRequestHandler({
    endpoint: options.endpoint,
    req,
    router: appRouter,
    maxBatchSize: MAX_TRPC_BATCH,
    createContext: () => createContext(options.deps, { headers: request.headers, userId: options.userId }),
  });
}
