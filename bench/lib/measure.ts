import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";

export interface MeasuredRun {
  code: number;
  seconds: number;
  peakRssBytes: number;
  stdout: string;
  /** What the process wrote to stderr, or, when a signal ended it, which signal (nothing else says so). */
  stderr: string;
}

const clockTicks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Fields after the command name in /proc/PID/stat (so index 0 is proc(5)'s field 3, "state"). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

export interface TreeProcess {
  pid: number;
  rssBytes: number;
  /** user + system CPU of the process and of its children it has waited for. */
  cpuSeconds: number;
  /** argv, NUL-separated arguments joined by spaces (the process title for e.g. next-server). */
  command: string;
}

/** A process and all its descendants, from /proc; a process that exits while being read is left out. */
export async function processTree(pid: number): Promise<TreeProcess[]> {
  const [status, stat, cmdline, children] = await Promise.all(
    ["status", "stat", "cmdline", `task/${pid}/children`].map((file) => readFile(`/proc/${pid}/${file}`, "utf8").catch(() => "")),
  );
  const out: TreeProcess[] = [];
  if (stat) {
    const f = statFields(stat);
    out.push({
      pid,
      rssBytes: Number(/VmRSS:\s+(\d+)/.exec(status!)?.[1] ?? 0) * 1024,
      cpuSeconds: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / clockTicks, // utime stime cutime cstime
      command: cmdline!.split("\0").filter(Boolean).join(" "),
    });
  }
  for (const child of children!.split(" ").filter(Boolean)) out.push(...(await processTree(Number(child))));
  return out;
}

/** Sums VmRSS of a process and all its descendants, from /proc. */
export async function rssOfTree(pid: number): Promise<number> {
  return (await processTree(pid)).reduce((sum, p) => sum + p.rssBytes, 0);
}

/** CPU time the whole machine has spent busy since boot (all cores, /proc/stat: all but idle and iowait). */
export async function machineBusySeconds(): Promise<number> {
  const cpu = (await readFile("/proc/stat", "utf8")).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return (user + nice + system + irq + softirq + steal) / clockTicks;
}

/** CPU time of this process's waited-for children (and theirs): /proc/self/stat cutime + cstime. */
export async function childrenCpuSeconds(): Promise<number> {
  const fields = statFields(await readFile("/proc/self/stat", "utf8"));
  return (Number(fields[13]) + Number(fields[14])) / clockTicks; // fields 16 and 17 of proc(5)
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
    child.on("close", (c, signal) => {
      // after "exit", once all output has been read
      if (signal) stderr += `\n(ended by ${signal}: killed from outside, or out of memory)`;
      resolve(c ?? 1);
    });
  });
  clearInterval(timer);
  return { code, seconds: (performance.now() - started) / 1000, peakRssBytes, stdout, stderr };
}

export function formatGiB(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
