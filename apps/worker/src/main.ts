import { checkpointAllAuditChains, loadAuditSigningKey, pruneEvents, readApiEnv } from "@pathx/api";
import { openDataServices, requireDatabaseUrl, startBoss } from "@pathx/runtime";
import { readWorkerEnv } from "./env";
import { formatQueueMetrics, readQueueCounts } from "./queue-metrics";
import { runTilingWorker } from "./tiling-job";

// The background worker: its own process, any number of them against one database and store.
requireDatabaseUrl("worker");
const { handle, store, databaseUrl } = await openDataServices();
const boss = await startBoss(databaseUrl!, { role: "worker" });
await runTilingWorker(boss, { db: handle.db, store });
console.log(`[worker ${process.pid}] waiting for tiling jobs`);

// Live events are for clients that are connected or reconnecting: keep a day (EVENTS_KEEP_HOURS).
const { EVENTS_KEEP_HOURS, PATHX_STACK, QUEUE_METRICS_SECONDS, AUDIT_CHECKPOINT_MINUTES } = readWorkerEnv();
const prune = () =>
  pruneEvents(handle.db, EVENTS_KEEP_HOURS).catch((error: Error) => console.error(`[worker ${process.pid}] pruning events failed: ${error.message}`));
void prune();
setInterval(prune, 10 * 60_000).unref();

// Signed checkpoints of every lab's audit chain that moved, which the labs' nodes fetch as witnesses.
const auditKey = await loadAuditSigningKey(readApiEnv());
const checkpoint = () =>
  checkpointAllAuditChains(handle.db, auditKey).catch((error: Error) =>
    console.error(`[worker ${process.pid}] signing audit checkpoints failed: ${error.message}`),
  );
void checkpoint();
setInterval(checkpoint, AUDIT_CHECKPOINT_MINUTES * 60_000).unref();

// In the cloud (PATHX_STACK set) the queue metrics that scale the workers go out as one
// CloudWatch Embedded Metric Format line a minute; the alarms take the maximum over workers.
if (PATHX_STACK) {
  const report = () =>
    readQueueCounts(handle.db)
      .then((counts) => process.stdout.write(`${formatQueueMetrics(PATHX_STACK, counts)}\n`))
      .catch((error: Error) => console.error(`[worker ${process.pid}] reading the queue for its metrics failed: ${error.message}`));
  void report();
  setInterval(report, QUEUE_METRICS_SECONDS * 1000).unref();
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // Finish the slide in hand if it is quick; otherwise its job expires and another worker retries it.
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => {});
  await handle.close().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
