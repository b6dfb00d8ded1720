import { parseArgs } from "node:util";
import { AuditError, pullAuditCheckpoint, verifyAuditChainAtHub, witnessesPath } from "../agent/audit";
import { loadNodeConfig } from "../agent/config";
import { readNodeEnv } from "../env";
import { UsageError } from "./usage-error";

type Io = { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream };

/** `pathx audit pull|verify`: the lab's witnesses of its audit chain at the hub. */
export async function runAuditCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  parseArgs({ args: rest, strict: true, options: {} });
  if (sub !== "pull" && sub !== "verify") throw new UsageError(`unknown audit command "${sub ?? ""}"; use pull or verify.`);
  const env = readNodeEnv();
  const config = await loadNodeConfig(env.PATHX_NODE_CONFIG);
  try {
    if (sub === "pull") {
      const { witnesses, latest, added } = await pullAuditCheckpoint(config, env.PATHX_NODE_CONFIG);
      const what = latest
        ? `entry ${latest.seq}, hash ${latest.hash.slice(0, 16)}…, signed ${latest.signedAt}${added ? "" : " (already held)"}`
        : "the lab's chain is empty";
      io.stdout.write(
        `audit checkpoint of ${config.lab.name}: ${what}; ${witnesses.checkpoints.length} witnesses in ${witnessesPath(env.PATHX_NODE_CONFIG)}\n`,
      );
      return 0;
    }
    const started = performance.now();
    const report = await verifyAuditChainAtHub(config, env.PATHX_NODE_CONFIG);
    if (report.ok) {
      // The time of the verification itself (as the hub's audit:verify prints it), without start-up.
      const took = `${Math.round(performance.now() - started)} ms`;
      io.stdout.write(
        `audit chain of ${config.lab.name}: OK, ${report.length} entries, head ${report.headHash.slice(0, 16)}…, checked against ${report.checkpoints} signed checkpoints (${took})\n`,
      );
      return 0;
    }
    io.stderr.write(
      `pathx: audit chain of ${config.lab.name} is BROKEN at entry ${report.broken!.seq}: ${report.broken!.problem} (entries 1–${report.length} are intact)\n`,
    );
    return 1;
  } catch (error) {
    if (!(error instanceof AuditError)) throw error;
    io.stderr.write(`pathx: audit: ${error.message}\n`);
    return error.exitCode;
  }
}
