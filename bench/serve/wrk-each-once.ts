import { spawn } from "node:child_process";
import { join } from "node:path";
import { cpuTicks } from "./tile-service";

export type EachOnceResult = {
  /** Every path answered (any status) and every wrk thread finished its share before the deadline. */
  complete: boolean;
  answered: number;
  paths: number;
  /** First request sent → last answer (wrk's run time when incomplete). */
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  non200: number;
  /** Socket errors: connect, read, write, and answers slower than wrk's --timeout. */
  errors: number;
  statuses: string;
  errorKinds: string;
  /** wrk's own CPU (all its threads) over the run, ms. */
  clientCpuMs: number;
};

/**
 * GETs each of the paths in pathsFile (one a line) exactly once from origin with wrk, `connections`
 * at a time over `threads` threads (each-tile-once.lua), and ends by state: wrk is stopped (SIGINT)
 * as soon as every thread says its share is answered. wrk's -d is the deadline: a run that has
 * not finished by then ends anyway and comes back with complete = false; a wrk that does not exit
 * 10 s after it is killed.
 */
export async function fetchEachOnceWithWrk(options: {
  origin: string;
  pathsFile: string;
  paths: number;
  threads: number;
  connections: number;
  deadlineSeconds: number;
  cookie?: string;
}): Promise<EachOnceResult> {
  const { threads, connections, paths } = options;
  // A thread with nothing to ask would never be answered, and wrk gives each thread connections / threads.
  if (threads < 1 || paths < threads || connections < threads || connections % threads !== 0)
    throw new Error(`wrk: ${paths} paths, ${threads} threads and ${connections} connections do not split evenly`);
  const child = spawn(
    "wrk",
    [
      "-t",
      String(threads),
      "-c",
      String(connections),
      "-d",
      `${Math.ceil(options.deadlineSeconds)}s`,
      "--timeout",
      "5s",
      "--latency",
      "-s",
      join(import.meta.dirname, "each-tile-once.lua"),
      options.origin,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BENCH_PATHS: options.pathsFile, BENCH_THREADS: String(threads), BENCH_COOKIE: options.cookie ?? "" },
    },
  );
  const pid = child.pid!;
  let stdout = "";
  let stderr = "";
  let doneThreads = 0;
  let clientTicks = 0;
  let interrupt: NodeJS.Timeout | undefined;
  const stop = () => {
    // wrk ignores SIGINT until its threads are started, and one landing just before its sleep()
    // is lost: ask again each second until it exits.
    child.kill("SIGINT");
    interrupt ??= setInterval(() => child.kill("SIGINT"), 1000);
  };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    let newline = stderr.indexOf("\n");
    while (newline >= 0) {
      const line = stderr.slice(0, newline);
      stderr = stderr.slice(newline + 1);
      if (line.startsWith("DONE ")) {
        if (++doneThreads === threads) {
          clientTicks = cpuTicks(pid); // its threads have stopped: their CPU is all in /proc/<pid>/stat
          stop();
        }
      } else process.stderr.write(`wrk: ${line}\n`);
      newline = stderr.indexOf("\n");
    }
  });
  // Last resort for the deadline: wrk ends by itself at -d; one that does not is killed.
  const sample = setInterval(() => {
    if (doneThreads < threads) clientTicks = cpuTicks(pid) || clientTicks;
  }, 200);
  const kill = setTimeout(() => child.kill("SIGKILL"), (options.deadlineSeconds + 10) * 1000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  }).finally(() => {
    clearInterval(sample);
    clearInterval(interrupt);
    clearTimeout(kill);
  });
  const result =
    /RESULT answered=(\d+) of=(\d+) threadsDone=(\d+)\/(\d+) seconds=([\d.]+) non200=(\d+) errors=(\d+) p50ms=([\d.]+) p99ms=([\d.]+) statuses=(\S*)/.exec(
      stdout,
    );
  if (!result) throw new Error(`wrk printed no result (exit ${code ?? signal}):\n${stdout}${stderr}`);
  const [answered, of, finished, all, seconds, non200, errors, p50, p99] = result.slice(1, 10).map(Number) as number[];
  return {
    complete: answered === paths && of === paths && finished === all,
    answered: answered!,
    paths,
    seconds: seconds!,
    perSecond: answered! / seconds!,
    p50: p50!,
    p99: p99!,
    non200: non200!,
    errors: errors!,
    statuses: result[10]!,
    errorKinds: /ERRORS (.*)/.exec(stdout)?.[1] ?? "",
    clientCpuMs: clientTicks * 10, // USER_HZ is 100 on Linux
  };
}
