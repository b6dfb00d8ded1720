import { ApiError, BODY_LIMITS, type BodyLimits, authenticateNode, httpStatusOf, readBoundedJson } from "@pathx/api";
import type { z } from "zod";
import { getDeps } from "./deps";
import { withRequestOrigin } from "./request-origin";
import { bodyLimits } from "./request-body";

/**
 * A node request's JSON body, bounded while it streams (read only after the node was
 * authenticated), checked against its schema; what is wrong is said in the error.
 */
export async function readNodeJson<T extends z.ZodType>(request: Request, schema: T, what: string, limits: BodyLimits = bodyLimits(BODY_LIMITS.smallJson)): Promise<z.infer<T>> {
  const parsed = schema.safeParse(await readBoundedJson(request, limits));
  if (!parsed.success) throw new ApiError("BAD_REQUEST", `Invalid ${what}: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return parsed.data;
}

/**
 * The lab node's HTTP API: every request carries the node's credential as a bearer token and
 * acts for that node's lab only. Errors are JSON with a message the node prints as it is.
 */
export async function handleNodeRequest(request: Request, run: (node: { id: string; labId: string }, deps: Awaited<ReturnType<typeof getDeps>>) => Promise<unknown>) {
  const deps = await getDeps();
  const credential = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  const node = credential ? await authenticateNode(deps.db, credential, request.headers.get("x-pathx-version") ?? undefined) : undefined;
  if (!node) return Response.json({ error: "This node is not enrolled, or it was revoked: enrol it again with a new token from your lab administrator." }, { status: 401 });
  try {
    const result = await withRequestOrigin(() => run(node, deps));
    // A route that has its answer as JSON text already (the audit pages) sends it as is.
    return result instanceof Response ? result : Response.json(result ?? { ok: true });
  } catch (error) {
    if (error instanceof ApiError) return Response.json({ error: error.message }, { status: httpStatusOf(error) });
    console.error(error);
    return Response.json({ error: "The hub failed to handle this request; the node will retry." }, { status: 500 });
  }
}
