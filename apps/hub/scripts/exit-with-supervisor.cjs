// Preloaded (node --require) into each process scripts/run.ts starts: ends that process when
// run.ts is gone, even after kill -9, so a restarted `npm start` never finds its port held by an
// orphaned web app. run.ts spawns it directly (node --import tsx, no launcher in between), so a
// changed parent pid means the supervisor died. SIGTERM, not exit, so the process's own
// shutdown handlers run as they would under `npm start`'s Ctrl-C.
"use strict";
const supervisor = process.ppid;
setInterval(() => {
  if (process.ppid !== supervisor) process.kill(process.pid, "SIGTERM");
}, 1000).unref();
