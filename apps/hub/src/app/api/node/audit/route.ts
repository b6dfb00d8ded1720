import { checkpointAuditChain } from "@pathx/api";
import { getAuditKey } from "@/server/deps";
import { nodeRoutes } from "@pathx/protocol";
import { handleNodeRequest } from "@/server/node-api";

export const dynamic = "force-dynamic";

/**
 * The lab's audit chain head, signed now if it moved since the last checkpoint, with the key
 * to check it: the node keeps it as a witness the hub cannot take back.
 */
export const GET = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.auditCheckpoint, async (node, { db }) => {
    const key = await getAuditKey();
    const checkpoint = await checkpointAuditChain(db, key, node.labId);
    return { labId: node.labId, checkpoint: checkpoint ?? null, keyId: key.keyId, publicKey: key.publicKeyPem };
  });
