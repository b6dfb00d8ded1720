import { ApiError } from "@pathx/api";
import { readAuditChainJson } from "@pathx/db";
import { handleNodeRequest } from "@/server/node-api";

export const dynamic = "force-dynamic";

const MAX_PAGE = 5000;

/** The node's own lab's audit entries after sequence number `after`, in order, a page at a time (`shape=tuples`: as `EntryTuple`s). */
export const GET = (request: Request) =>
  handleNodeRequest(request, async (node, { db }) => {
    const params = new URL(request.url).searchParams;
    const after = Number(params.get("after") ?? "0");
    const limit = Number(params.get("limit") ?? String(MAX_PAGE));
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new ApiError("BAD_REQUEST", `after is a whole number ≥ 0 and limit one from 1 to ${MAX_PAGE}.`);
    }
    // Nodes that read tuples ask for them; older nodes get entry objects. Either way the page
    // goes out as the database wrote it: no parsing and re-serialising of 5 000 entries here.
    const shape = params.get("shape") === "tuples" ? "tuples" : "objects";
    const entries = await readAuditChainJson(db, node.labId, after, limit, shape);
    return new Response(`{"labId":${JSON.stringify(node.labId)},"shape":"${shape}","entries":${entries}}`, { headers: { "content-type": "application/json" } });
  });
