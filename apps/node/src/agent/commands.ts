import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { nodeRoutes } from "@pathx/protocol";
import { createProgressLine } from "../cli/progress";
import { UsageError } from "../cli/usage-error";
import { type NodeEnv, readNodeEnv } from "../env";
import { pullAuditCheckpointQuietly } from "./audit";
import { registerBacklog } from "./backlog";
import { type NodeConfig, loadNodeConfig, saveNodeConfig } from "./config";
import { loadIndexKey } from "./file-ref";
import { agentVersion, callHub } from "./hub-client";
import { buildIndexRecord, registerIndexRecords } from "./index-record";
import { serveOrders } from "./orders";
import { pseudonymise } from "./pseudonym";
import { publishSlide } from "./publish";
import { scanFolder } from "./watch";

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

function parseMaxRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!(rate > 0)) throw new UsageError("--max-rate takes megabytes per second, e.g. 20.");
  return rate * 1024 * 1024;
}

const logTo = (io: Io) => (line: string) => io.stdout.write(`${new Date().toISOString()} ${line}\n`);

/** `pathx node enroll|publish|watch|backlog|serve …` */
export async function runNodeCommand(argv: string[], io: Io): Promise<number | void> {
  const [sub, ...rest] = argv;
  const env = readNodeEnv();
  if (sub === "enroll") return enroll(rest, env, io);
  if (sub === "publish") return publish(rest, env, io);
  if (sub === "watch") return watch(rest, env, io);
  if (sub === "backlog") return backlog(rest, env, io);
  if (sub === "serve") {
    const { values } = parseArgs({ args: rest, strict: true, options: { "max-rate": { type: "string" } } });
    const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
    const log = logTo(io);
    log(`waiting for the hub's orders for index-only slides (${config.hub})`);
    await pullAuditCheckpointQuietly(config, env.PATHX_NODE_CONFIG, log);
    return serveOrders(config, await loadIndexKey(env.PATHX_NODE_CONFIG, config), {
      signal: stopSignal(),
      log,
      maxBytesPerSecond: parseMaxRate(values["max-rate"]),
    });
  }
  throw new UsageError(`unknown node command "${sub ?? ""}"; use enroll, publish, watch, backlog or serve.`);
}

async function enroll(args: string[], env: NodeEnv, io: Io) {
  const { values } = parseArgs({ args, strict: true, options: { hub: { type: "string" }, token: { type: "string" }, name: { type: "string" } } });
  if (!values.hub || !values.token) throw new UsageError("pathx node enroll needs --hub URL and --token TOKEN.");
  const hub = new URL(values.hub).origin;
  const answer = await callHub(hub, nodeRoutes.enroll, { json: { token: values.token, name: values.name ?? hostname(), version: agentVersion } }, 3);
  // A re-enrolled node keeps its reference key, so the slides it registered index-only stay fetchable.
  const previous = await loadNodeConfig(env.PATHX_NODE_CONFIG).catch(() => undefined);
  await saveNodeConfig(env.PATHX_NODE_CONFIG, { hub, nodeId: answer.nodeId, credential: answer.credential, lab: answer.lab, indexKey: previous?.indexKey });
  io.stdout.write(`enrolled as a node of ${answer.lab.name}; credential saved to ${env.PATHX_NODE_CONFIG} (mode 0600)\n`);
}

async function publish(args: string[], env: NodeEnv, io: Io) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      case: { type: "string" },
      block: { type: "string" },
      stain: { type: "string" },
      specimen: { type: "string" },
      patient: { type: "string" },
      "max-rate": { type: "string" },
      "index-only": { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("pathx node publish takes exactly one slide file.");
  if (!values.case) throw new UsageError("pathx node publish needs --case ACCESSION.");
  if (values.patient && !env.PATHX_PSEUDONYM_KEY) {
    throw new UsageError("--patient needs PATHX_PSEUDONYM_KEY (the key the labs share) so the id leaves the lab only as a pseudonym.");
  }
  const maxBytesPerSecond = parseMaxRate(values["max-rate"]);
  const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
  const file = positionals[0]!;
  const meta = {
    accessionNumber: values.case,
    block: values.block ?? "",
    stain: values.stain ?? "",
    specimen: values.specimen ?? "",
    patientPseudonym: values.patient ? pseudonymise(values.patient, env.PATHX_PSEUDONYM_KEY!) : undefined,
  };
  if (values["index-only"]) {
    const record = await buildIndexRecord(await loadIndexKey(env.PATHX_NODE_CONFIG, config), file, meta);
    const answer = await registerIndexRecords(config, [record]);
    if (answer.rejected.length) throw new Error(`the hub refused ${file}: ${answer.rejected[0]!.reason}`);
    io.stdout.write(
      answer.registered
        ? `registered ${file} index-only: the hub has its metadata and thumbnail; the file is sent when someone opens it (keep "pathx node serve" or "watch" running)\n`
        : `${file} was already registered\n`,
    );
    return;
  }
  const progress = createProgressLine(io.stderr, `publishing ${file}`, "chunks");
  const started = performance.now();
  const result = await publishSlide(config, { file, ...meta }, (done, total) => progress.update(done, total), { maxBytesPerSecond });
  progress.done();
  io.stdout.write(
    result.duplicate
      ? `already published as slide ${result.slideId}\n`
      : `published slide ${result.slideId} (${result.chunksSent} chunk(s) sent) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

async function watch(args: string[], env: NodeEnv, io: Io): Promise<number | void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { interval: { type: "string" }, once: { type: "boolean" }, "index-only": { type: "boolean" }, "max-rate": { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError("pathx node watch takes exactly one folder.");
  const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
  const seconds = Number(values.interval ?? 5);
  if (!(seconds > 0)) throw new UsageError("--interval takes a number of seconds.");
  const maxBytesPerSecond = parseMaxRate(values["max-rate"]);
  const indexKey = await loadIndexKey(env.PATHX_NODE_CONFIG, config);
  const seenSizes = new Map<string, number>();
  const log = logTo(io);
  log(
    `watching ${positionals[0]} every ${seconds} s for slides with sidecar .json files${values["index-only"] ? " (index-only: files are sent when the hub asks)" : ""}`,
  );
  await pullAuditCheckpointQuietly(config, env.PATHX_NODE_CONFIG, log);
  let ordersInProgress = 0;
  // Each pass ends with a heartbeat, so the lab admin sees the node's queue and last problem.
  const pass = async () => {
    const result = await scanFolder(positionals[0]!, config, {
      pseudonymKey: env.PATHX_PSEUDONYM_KEY,
      seenSizes,
      log,
      indexKey: values["index-only"] ? indexKey : undefined,
    });
    await heartbeat(config, result.waiting + ordersInProgress, result.lastError, log);
  };
  if (values.once) {
    await pass();
    if (seenSizes.size > 0) {
      // --once: a second pass publishes what the first saw settled, then stop.
      await sleep(seconds * 1000);
      await pass();
    }
    return;
  }
  // The orders loop runs beside the folder scan for as long as the node watches.
  const signal = stopSignal();
  let ordersFailed = false;
  const orders = serveOrders(config, indexKey, { signal, log, maxBytesPerSecond, onOrdersChanged: (n) => (ordersInProgress = n) }).catch((error: Error) => {
    log(`stopped taking orders: ${error.message}`);
    ordersFailed = true;
  });
  while (!signal.aborted && !ordersFailed) {
    await pass();
    await sleep(seconds * 1000);
  }
  await orders;
  return ordersFailed ? 1 : 0;
}

async function backlog(args: string[], env: NodeEnv, io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { batch: { type: "string" }, concurrency: { type: "string" }, threads: { type: "string" }, restart: { type: "boolean" } },
  });
  if (positionals.length !== 1) throw new UsageError("pathx node backlog takes exactly one folder (searched recursively).");
  const batchSize = Number(values.batch ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) throw new UsageError("--batch takes 1 to 1000 slides per request.");
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new UsageError("--concurrency takes 1 to 64 (slides in flight per reader thread).");
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 64))
    throw new UsageError("--threads takes 1 to 64 reader threads (default: one per core).");
  const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
  const log = logTo(io);
  const tty = Boolean(io.stderr.isTTY);
  const report = await registerBacklog(positionals[0]!, config, {
    indexKey: await loadIndexKey(env.PATHX_NODE_CONFIG, config),
    configPath: env.PATHX_NODE_CONFIG,
    pseudonymKey: env.PATHX_PSEUDONYM_KEY,
    batchSize,
    concurrency,
    threads,
    restart: values.restart,
    log,
    progress: (r) => {
      const line = `registered ${r.registered}, already known ${r.alreadyKnown}, problems ${r.problems} — ${((r.registered + r.alreadyKnown) / Math.max(r.seconds, 0.001)) | 0} slides/s`;
      if (tty) io.stderr.write(`\r${line}\x1b[K`);
    },
  });
  if (tty) io.stderr.write("\n");
  const rate = (report.registered + report.alreadyKnown) / Math.max(report.seconds, 0.001);
  io.stdout.write(
    `backlog of ${positionals[0]}: ${report.found} slide file(s) found, ${report.registered} registered index-only, ${report.alreadyKnown} already known, ` +
      `${report.skippedBefore} done in an earlier run, ${report.problems} with problems (listed above) — ${report.seconds.toFixed(1)} s, ${rate.toFixed(0)} slides/s\n`,
  );
  return report.problems > 0 ? 1 : 0;
}

async function heartbeat(config: NodeConfig, queueDepth: number, lastError: string | null, log: (line: string) => void) {
  await callHub(config.hub, nodeRoutes.status, { credential: config.credential, json: { queueDepth, lastError } }, 2).catch((error: Error) =>
    log(`could not report status to the hub: ${error.message}`),
  );
}

function stopSignal(): AbortSignal {
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => controller.abort());
  return controller.signal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
