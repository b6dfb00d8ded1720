import { ApiError } from "@pathx/api";
import { readAuditChainJson } from "@pathx/db";
import { MAX_AUDIT_PAGE, nodeRoutes, parseNodeQuery } from "@pathx/protocol";
import { handleNodeRequest } from "@/server/node-api";

export const dynamic = "force-dynamic";

/** The node's own lab's audit entries after sequence number `after`, in order, a page at a time (`shape=tuples`: as `EntryTuple`s). */
export const GET = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.auditEntries, async (node, { db }) => {
    const query = parseNodeQuery(nodeRoutes.auditEntries.query, request.url);
    if (!query.success) throw new ApiError("BAD_REQUEST", `after is a whole number ≥ 0 and limit one from 1 to ${MAX_AUDIT_PAGE}.`);
    // Nodes that read tuples ask for them; older nodes get entry objects. Either way the page
    // goes out as the database wrote it: no parsing and re-serialising of 5 000 entries here.
    const { after, limit, shape } = query.data;
    const entries = await readAuditChainJson(db, node.labId, after, limit, shape);
    return new Response(`{"labId":${JSON.stringify(node.labId)},"shape":"${shape}","entries":${entries}}`, { headers: { "content-type": "application/json" } });
  });
