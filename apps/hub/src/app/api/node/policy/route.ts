import { eq } from "drizzle-orm";
import { schema } from "@pathx/db";
import { nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest } from "@/server/node-api";

/** The lab's sharing policy, which the node applies before anything leaves the lab. */
export const GET = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.policy, async (node, { db }) => {
    const [lab] = await db.select({ shareLabelMacro: schema.labs.shareLabelMacro }).from(schema.labs).where(eq(schema.labs.id, node.labId));
    return { shareLabelMacro: lab?.shareLabelMacro ?? false };
  });
