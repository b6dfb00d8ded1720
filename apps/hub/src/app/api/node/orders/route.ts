import { claimFetchOrders } from "@pathx/api";
import { handleNodeRequest } from "@/server/node-api";

export const dynamic = "force-dynamic";
const MAX_WAIT_SECONDS = 30;
const POLL_MS = 1000;

/**
 * Long poll: the node asks for orders and the hub answers as soon as there is one, or empty
 * after `wait` seconds. The node always opens the connection; nothing reaches into the lab.
 */
export const GET = (request: Request) =>
  handleNodeRequest(request, async (node, { db }) => {
    const wait = Math.min(MAX_WAIT_SECONDS, Math.max(0, Number(new URL(request.url).searchParams.get("wait") ?? 0) || 0));
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      const orders = await claimFetchOrders(db, node.id);
      if (orders.length || Date.now() >= deadline || request.signal.aborted) return { orders };
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
