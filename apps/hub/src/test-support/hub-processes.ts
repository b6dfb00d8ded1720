import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { createWatch } from "@pathx/node/test-support";

const root = resolve(import.meta.dirname, "../../../..");
const bin = (name: string) => resolve(root, "node_modules/.bin", name);

export interface HubPart {
  name: string;
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in its output (checking what came already). */
  waitForOutput(pattern: RegExp, seconds?: number): Promise<RegExpMatchArray>;
  /** kill -9: no chance to finish or clean up, as when a machine or container dies. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

function launch(name: string, command: string, args: string[], cwd: string, env: Record<string, string>): HubPart {
  // Web apps and workers run in different folders: one audit signing key beside the objects.
  const auditKey = { AUDIT_KEY_FILE: join(env.STORAGE_DIR ? dirname(env.STORAGE_DIR) : resolve(root, ".data"), "audit-signing-key.pem") };
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", ...auditKey, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const watch = createWatch();
  const take = (data: Buffer) => {
    text += data.toString();
    watch.changed();
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(sig);
    await exited;
  };
  return {
    name,
    pid: child.pid!,
    output: () => text,
    waitForOutput: (pattern, seconds = 120) =>
      watch.until(
        () => pattern.exec(text),
        seconds,
        () => `${name} did not print ${pattern} within ${seconds} s:\n${text.slice(-2000)}`,
      ),
    kill9: () => signal("SIGKILL"),
    async stop() {
      const forced = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await signal("SIGTERM");
      clearTimeout(forced);
    },
  };
}

/**
 * One hub web process (the built app, `next start`) on its own port, against whatever database
 * and store `env` names: several of them with one AUTH_SECRET are one hub behind a balancer.
 */
export async function startWebApp(options: { port: number; env: Record<string, string>; bindHost?: string }): Promise<HubPart & { url: string }> {
  const url = `http://127.0.0.1:${options.port}`;
  const part = launch(
    `web app :${options.port}`,
    bin("next"),
    ["start", "-p", String(options.port), "-H", options.bindHost ?? "127.0.0.1"],
    resolve(root, "apps/hub"),
    {
      AUTH_URL: url,
      ...options.env,
    },
  );
  const deadline = Date.now() + 120_000;
  while (
    !(await fetch(`${url}/api/auth/csrf`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error(`${part.name} did not answer within 2 minutes:\n${part.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { ...part, url };
}

/** One worker process (apps/worker/src/main.ts), ready once it waits for jobs. */
export async function startWorker(options: { name: string; env: Record<string, string> }): Promise<HubPart> {
  // Node itself with tsx's loader (not the tsx command, which runs Node as a child): a kill -9
  // then hits the process doing the work.
  const part = launch(options.name, process.execPath, ["--import", "tsx", resolve(root, "apps/worker/src/main.ts")], root, options.env);
  await part.waitForOutput(/waiting for tiling jobs/);
  return part;
}
