// A preload (`--require`) that CPU-profiles the process's main thread and writes the profile on
// exit to <tmpdir>/pathx-backlog-profiles/: NODE_OPTIONS may not carry --cpu-prof, this it may.
const { Session } = require("node:inspector");
const { mkdirSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 500 });
session.post("Profiler.start");
process.on("exit", () => {
  // Synchronous on this thread: the callback runs before exit goes on.
  session.post("Profiler.stop", (error, result) => {
    if (error) return;
    const dir = join(tmpdir(), "pathx-backlog-profiles");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
