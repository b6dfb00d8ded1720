import { spawn } from "node:child_process";

/**
 * Runs a command and ends it when the supervisor that started this guard is gone (even after
 * kill -9), so a restarted `npm start` never finds its port held by an orphaned web app.
 */
const [supervisor, command, ...args] = process.argv.slice(2);
if (!supervisor || !command) {
  console.error("usage: guard SUPERVISOR_PID COMMAND [ARGS…]");
  process.exit(2);
}
// tsx runs this file in a child process, so the supervisor is named, not taken from ppid.
const alive = () => {
  try {
    process.kill(Number(supervisor), 0);
    return true;
  } catch {
    return false;
  }
};
const child = spawn(command, args, { stdio: "inherit" });
const stop = (signal: NodeJS.Signals) => child.kill(signal);
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
const watchdog = setInterval(() => {
  if (!alive()) stop("SIGTERM");
}, 1000);
child.on("exit", (code, signal) => {
  clearInterval(watchdog);
  process.exit(code ?? (signal ? 1 : 0));
});
