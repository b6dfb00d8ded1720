import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { createProgressLine } from "../cli/progress";
import { UsageError } from "../cli/usage-error";
import { readNodeEnv } from "../env";
import { loadNodeConfig, saveNodeConfig } from "./config";
import { agentVersion, callHub } from "./hub-client";
import { pseudonymise } from "./pseudonym";
import { publishSlide } from "./publish";
import { scanFolder } from "./watch";


/** `pathx node enroll|publish …` */
export async function runNodeCommand(argv: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<void> {
  const [sub, ...rest] = argv;
  const env = readNodeEnv();
  if (sub === "enroll") {
    const { values } = parseArgs({ args: rest, strict: true, options: { hub: { type: "string" }, token: { type: "string" }, name: { type: "string" } } });
    if (!values.hub || !values.token) throw new UsageError("pathx node enroll needs --hub URL and --token TOKEN.");
    const hub = new URL(values.hub).origin;
    const answer = await callHub<{ nodeId: string; credential: string; lab: { slug: string; name: string } }>(hub, "/api/node/enroll", {
      method: "POST",
      json: { token: values.token, name: values.name ?? hostname(), version: agentVersion },
    }, 3);
    await saveNodeConfig(env.PATHX_NODE_CONFIG, { hub, nodeId: answer.nodeId, credential: answer.credential, lab: answer.lab });
    io.stdout.write(`enrolled as a node of ${answer.lab.name}; credential saved to ${env.PATHX_NODE_CONFIG} (mode 0600)\n`);
    return;
  }
  if (sub === "publish") {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        case: { type: "string" },
        block: { type: "string" },
        stain: { type: "string" },
        specimen: { type: "string" },
        patient: { type: "string" },
        "max-rate": { type: "string" },
      },
    });
    if (positionals.length !== 1) throw new UsageError("pathx node publish takes exactly one slide file.");
    if (!values.case) throw new UsageError("pathx node publish needs --case ACCESSION.");
    if (values.patient && !env.PATHX_PSEUDONYM_KEY) {
      throw new UsageError("--patient needs PATHX_PSEUDONYM_KEY (the key the labs share) so the id leaves the lab only as a pseudonym.");
    }
    const maxRate = values["max-rate"] === undefined ? undefined : Number(values["max-rate"]);
    if (maxRate !== undefined && !(maxRate > 0)) throw new UsageError("--max-rate takes megabytes per second, e.g. 20.");
    const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
    const progress = createProgressLine(io.stderr, `publishing ${positionals[0]}`, "chunks");
    const started = performance.now();
    const result = await publishSlide(
      config,
      {
        file: positionals[0]!,
        accessionNumber: values.case,
        block: values.block ?? "",
        stain: values.stain ?? "",
        specimen: values.specimen ?? "",
        patientPseudonym: values.patient ? pseudonymise(values.patient, env.PATHX_PSEUDONYM_KEY!) : undefined,
      },
      (done, total) => progress.update(done, total),
      { maxBytesPerSecond: maxRate ? maxRate * 1024 * 1024 : undefined },
    );
    progress.done();
    io.stdout.write(
      result.duplicate
        ? `already published as slide ${result.slideId}\n`
        : `published slide ${result.slideId} (${result.chunksSent} chunk(s) sent) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return;
  }
  if (sub === "watch") {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { interval: { type: "string" }, once: { type: "boolean" } } });
    if (positionals.length !== 1) throw new UsageError("pathx node watch takes exactly one folder.");
    const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
    const seconds = Number(values.interval ?? 5);
    if (!(seconds > 0)) throw new UsageError("--interval takes a number of seconds.");
    const seenSizes = new Map<string, number>();
    const log = (line: string) => io.stdout.write(`${new Date().toISOString()} ${line}\n`);
    log(`watching ${positionals[0]} every ${seconds} s for slides with sidecar .json files`);
    // Each pass ends with a heartbeat, so the lab admin sees the node's queue and last problem.
    const pass = async () => {
      const result = await scanFolder(positionals[0]!, config, { pseudonymKey: env.PATHX_PSEUDONYM_KEY, seenSizes, log });
      await callHub(config.hub, "/api/node/status", { method: "POST", credential: config.credential, json: { queueDepth: result.waiting, lastError: result.lastError } }, 2).catch(
        (error: Error) => log(`could not report status to the hub: ${error.message}`),
      );
    };
    for (;;) {
      await pass();
      if (values.once && [...seenSizes.keys()].length > 0) {
        // --once: a second pass publishes what the first saw settled, then stop.
        await new Promise((r) => setTimeout(r, seconds * 1000));
        await pass();
        return;
      }
      if (values.once) return;
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
  }
  throw new UsageError(`unknown node command "${sub ?? ""}"; use enroll, publish or watch.`);
}
