import { access } from "node:fs/promises";
import { type FetchOrder, nodeRoutes } from "@pathx/protocol";
import type { NodeConfig } from "./config";
import { readFileRef } from "./file-ref";
import { HubError, callHub, hubAnswerSeconds } from "./hub-client";
import { publishSlide } from "./publish";

const POLL_SECONDS = 25;
const MAX_PARALLEL = 2;

/**
 * Fetches the hub's orders by long poll (the node opens every connection; nothing reaches into
 * the lab) and sends each ordered index-only slide's file, label and macro removed as for any
 * publish. Orders the node is already working on are skipped when the hub hands them out again.
 * Runs until `signal` aborts; a revoked node stops with the hub's message.
 */
export async function serveOrders(
  config: NodeConfig,
  indexKey: Buffer,
  options: { signal: AbortSignal; log: (line: string) => void; maxBytesPerSecond?: number; onOrdersChanged?: (working: number) => void },
): Promise<void> {
  const working = new Map<string, Promise<void>>();
  let failures = 0;
  while (!options.signal.aborted) {
    if (working.size >= MAX_PARALLEL) {
      await Promise.race(working.values());
      continue;
    }
    let orders: FetchOrder[];
    try {
      ({ orders } = await callHub(
        config.hub,
        nodeRoutes.orders,
        { params: { wait: POLL_SECONDS }, credential: config.credential, signal: options.signal, answerSeconds: POLL_SECONDS + hubAnswerSeconds() },
        1,
      ));
      failures = 0;
    } catch (error) {
      if (options.signal.aborted) break;
      if (error instanceof HubError && error.hubCode === "UNAUTHORIZED") throw error;
      failures++;
      if (failures === 1 || failures % 10 === 0) options.log(`cannot fetch orders from the hub (${(error as Error).message}); retrying`);
      await sleep(Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)), options.signal);
      continue;
    }
    for (const order of orders) {
      if (working.has(order.orderId) || working.size >= MAX_PARALLEL) continue;
      const job = fulfilOrder(config, indexKey, order, options).finally(() => {
        working.delete(order.orderId);
        options.onOrdersChanged?.(working.size);
      });
      working.set(order.orderId, job);
      options.onOrdersChanged?.(working.size);
    }
  }
  await Promise.allSettled(working.values());
}

async function fulfilOrder(config: NodeConfig, indexKey: Buffer, order: FetchOrder, options: { log: (line: string) => void; maxBytesPerSecond?: number }) {
  const path = readFileRef(indexKey, order.ref);
  const fail = (reason: string) =>
    callHub(config.hub, nodeRoutes.failOrder, { params: { orderId: order.orderId }, credential: config.credential, json: { reason } }).catch((error: Error) =>
      options.log(`order for ${order.fileName}: could not report the failure (${error.message})`),
    );
  if (!path) {
    options.log(`order for ${order.fileName}: registered by another node or with another key; refused`);
    return void (await fail("this node did not register the file (its reference is unknown here); register it again from this node"));
  }
  if (
    !(await access(path).then(
      () => true,
      () => false,
    ))
  ) {
    options.log(`order for ${order.fileName}: ${path} is gone`);
    return void (await fail(`${order.fileName} is no longer where it was registered`));
  }
  options.log(`order for ${order.fileName}: sending`);
  try {
    const result = await publishSlide(config, { file: path, accessionNumber: "", block: "", stain: "", specimen: "" }, () => {}, {
      orderId: order.orderId,
      maxBytesPerSecond: options.maxBytesPerSecond,
    });
    options.log(`order for ${order.fileName}: sent (${result.chunksSent} chunk(s)) as slide ${result.slideId}`);
  } catch (error) {
    // The hub refused (4xx): say why on the slide. Network trouble: the hub hands the order out again.
    if (error instanceof HubError && error.code === "HUB_REFUSED") {
      options.log(`order for ${order.fileName}: the hub refused it (${error.message})`);
      if (error.hubCode !== "UNAUTHORIZED") await fail(error.message);
    } else {
      options.log(`order for ${order.fileName}: ${(error as Error).message}; will resume when the hub asks again`);
    }
  }
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
