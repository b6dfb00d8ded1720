import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";

export interface MeasuredRun {
  code: number;
  seconds: number;
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

/** Sums VmRSS of a process and all its descendants, from /proc. */
export async function rssOfTree(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  let total = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  for (const child of tasks.split(" ").filter(Boolean)) total += await rssOfTree(Number(child));
  return total;
}

/** Runs a command, sampling the RSS of its process tree every 50 ms; wall time from spawn to exit. */
export async function runMeasured(command: string, args: string[], options: { cwd?: string } = {}): Promise<MeasuredRun> {
  const started = performance.now();
  const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let peakRssBytes = 0;
  const timer = setInterval(() => {
    void rssOfTree(child.pid!).then((rss) => (peakRssBytes = Math.max(peakRssBytes, rss)));
  }, 50);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolve) => {
    child.on("error", () => resolve(127));
    child.on("exit", (c) => resolve(c ?? 1));
  });
  clearInterval(timer);
  return { code, seconds: (performance.now() - started) / 1000, peakRssBytes, stdout, stderr };
}

export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
