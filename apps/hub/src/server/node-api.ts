import { ApiError, BODY_LIMITS, type BodyLimits, authenticateNode, httpStatusOf, readBoundedJson } from "@pathx/api";
import { AGENT_VERSION_HEADER, NODE_PROTOCOL_VERSION, PROTOCOL_HEADER } from "@pathx/protocol";
import type { Db } from "@pathx/db";
import type { z } from "zod";
import { getDeps } from "./deps";
import { withRequestOrigin } from "./request-origin";
import { bodyLimits } from "./request-body";

/**
 * A node request's JSON body, bounded while it streams (read only after the node was
 * authenticated), checked against its schema; what is wrong is said in the error.
 */
export async function readNodeJson<T extends z.ZodType>(
  request: Request,
  schema: T,
  what: string,
  limits: BodyLimits = bodyLimits(BODY_LIMITS.smallJson),
): Promise<z.output<T>> {
  const parsed = schema.safeParse(await readBoundedJson(request, limits));
  if (!parsed.success)
    throw new ApiError(
      "BAD_REQUEST",
      `Invalid ${what}: ${parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join(".")}: ${i.message}`)
        .join("; ")}`,
    );
  return parsed.data;
}

/** Every node answer names the protocol it speaks, so a node of another version can say so plainly. */
export function nodeJson(body: unknown, init: ResponseInit = {}): Response {
  const response = Response.json(body, init);
  response.headers.set(PROTOCOL_HEADER, String(NODE_PROTOCOL_VERSION));
  return response;
}

/** A node that declares another protocol is refused with what to do; one that declares none is taken as speaking this one. */
export function checkNodeProtocol(request: Request): void {
  const spoken = request.headers.get(PROTOCOL_HEADER);
  if (spoken !== null && spoken !== String(NODE_PROTOCOL_VERSION)) {
    throw new ApiError(
      "BAD_REQUEST",
      `This node speaks node protocol ${spoken.slice(0, 20)}, this hub speaks ${NODE_PROTOCOL_VERSION}: install the node agent (pathx) of the hub's release.`,
    );
  }
}

/**
 * The lab node's HTTP API: every request carries the node's credential as a bearer token and
 * acts for that node's lab only. `_route` (only its type is used) is the route's entry in @pathx/protocol's nodeRoutes:
 * what `run` returns must be its answer (a route whose answer is JSON text already returns a
 * Response). Errors are JSON with a message the node prints as it is.
 */
export async function handleNodeRequest<A extends z.ZodType>(
  request: Request,
  _route: { answer: A },
  run: (node: { id: string; labId: string }, deps: Awaited<ReturnType<typeof getDeps>>) => Promise<z.input<A> | Response>,
) {
  const deps = await getDeps();
  return answerNodeRequest(request, deps.db, (node) => withRequestOrigin(() => run(node, deps)));
}

/** handleNodeRequest's answer once the database is open: authenticate, check the protocol, run, map errors. */
export async function answerNodeRequest(request: Request, db: Db, run: (node: { id: string; labId: string }) => Promise<unknown>): Promise<Response> {
  const credential = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  const node = credential ? await authenticateNode(db, credential, request.headers.get(AGENT_VERSION_HEADER) ?? undefined) : undefined;
  if (!node)
    return nodeJson({ error: "This node is not enrolled, or it was revoked: enrol it again with a new token from your lab administrator." }, { status: 401 });
  try {
    checkNodeProtocol(request);
    const result = await run(node);
    if (result instanceof Response) {
      result.headers.set(PROTOCOL_HEADER, String(NODE_PROTOCOL_VERSION));
      return result;
    }
    return nodeJson(result);
  } catch (error) {
    if (error instanceof ApiError) return nodeJson({ error: error.message }, { status: httpStatusOf(error) });
    console.error(error);
    return nodeJson({ error: "The hub failed to handle this request; the node will retry." }, { status: 500 });
  }
}
