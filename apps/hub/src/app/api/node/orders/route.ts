import { claimFetchOrders, nodeOrdersTopic } from "@pathx/api";
import { getEventHub } from "@/server/events";
import { nodeRoutes, parseNodeQuery } from "@pathx/protocol";
import { handleNodeRequest } from "@/server/node-api";

export const dynamic = "force-dynamic";
// A new order wakes the poll through the event bus; this slow re-check only covers an order handed
// out again after its node went quiet (no event marks that moment).
const RECHECK_MS = 5000;

/**
 * Long poll: the node asks for orders and the hub answers as soon as there is one, or empty
 * after `wait` seconds. The node always opens the connection; nothing reaches into the lab.
 */
export const GET = (request: Request) =>
  handleNodeRequest(request, nodeRoutes.orders, async (node, { db }) => {
    // Never refused: a wait that is not a number is no wait, and it is capped.
    const { wait } = parseNodeQuery(nodeRoutes.orders.query, request.url).data ?? { wait: 0 };
    const deadline = Date.now() + wait * 1000;
    // An order that arrives while the claim query runs is remembered, not missed.
    let woken = false;
    const remember = () => {
      woken = true;
    };
    let wake: () => void = remember;
    const unsubscribe = (await getEventHub()).subscribe([nodeOrdersTopic(node.id)], undefined, () => wake());
    try {
      for (;;) {
        woken = false;
        const orders = await claimFetchOrders(db, node.id);
        if (orders.length || Date.now() >= deadline || request.signal.aborted) return { orders };
        if (woken) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(RECHECK_MS, deadline - Date.now()));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = remember;
      }
    } finally {
      unsubscribe();
    }
  });
