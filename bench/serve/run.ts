import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startHubProcess } from "@pathx/node/test-support";
import { waitFor } from "../lib/hub";

// bench/serve: signed-in tile GETs against the hub beside nginx serving the same tile files
// statically, random tiles, 100 connections, fixed duration, in one run.
const { values } = parseArgs({ options: { duration: { type: "string", default: "20" }, connections: { type: "string", default: "100" } } });
const repo = new URL("../../", import.meta.url).pathname;
const out = join(repo, "bench/out/serve");
const data = join(out, "data");
const hubPort = 3340;
const nginxPort = 3341;

for (const tool of ["wrk", "nginx"]) {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
  } catch {
    console.error(`bench/serve needs ${tool}: apt-get install wrk nginx-light`);
    process.exit(1);
  }
}
await mkdir(out, { recursive: true });

// 1. The hub as npm start runs it, with its demo data (seeded on first use of this folder).
const hub = await startHubProcess({ port: hubPort, dataDir: data, authSecret: "bench-serve-secret-0123456789", demoSlides: true });
let nginx: ChildProcess | undefined;
try {
  // 2. Sign in as a user would: CSRF token, then the credentials callback; keep the session cookie.
  const csrf = await fetch(`http://127.0.0.1:${hubPort}/api/auth/csrf`);
  const csrfCookie = csrf.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const login = await fetch(`http://127.0.0.1:${hubPort}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie },
    body: new URLSearchParams({ csrfToken, email: "pathologist@north.example", password: "pathx-demo-2026" }),
  });
  const session = login.headers.getSetCookie().map((c) => c.split(";")[0] ?? "").find((c) => c.includes("session-token"));
  if (!session) throw new Error(`sign-in failed (HTTP ${login.status})`);

  // 3. The large demo slide's tiles (once the workers have tiled the demo slides): hub URLs and
  //    the same files' paths for nginx.
  const slides = join(data, "objects/tiles");
  for (let waited = 0; ; waited++) {
    const dzis = await readdir(slides, { recursive: true }).then((all) => all.filter((f) => String(f).endsWith("slide.dzi")), () => []);
    if (dzis.length >= 4) break;
    if (waited > 300) throw new Error("the demo slides were not tiled within 5 minutes");
    await new Promise((r) => setTimeout(r, 1000));
  }
  let best = { slideId: "", attempt: "", count: 0 };
  for (const slideId of await readdir(slides)) {
    for (const attempt of await readdir(join(slides, slideId))) {
      const levels = await readdir(join(slides, slideId, attempt, "slide_files"));
      const top = String(Math.max(...levels.map(Number)));
      const count = (await readdir(join(slides, slideId, attempt, "slide_files", top))).length;
      if (count > best.count) best = { slideId, attempt, count };
    }
  }
  const files: string[] = [];
  const root = join(slides, best.slideId, best.attempt);
  for (const level of await readdir(join(root, "slide_files"))) {
    for (const file of await readdir(join(root, "slide_files", level))) files.push(`slide_files/${level}/${file}`);
  }
  await writeFile(join(out, "hub-paths.txt"), files.map((f) => `/tiles/${best.slideId}/${f}`).join("\n"));
  await writeFile(join(out, "nginx-paths.txt"), files.map((f) => `/${f}`).join("\n"));
  const check = await fetch(`http://127.0.0.1:${hubPort}/tiles/${best.slideId}/${files[0]}`, { headers: { cookie: session } });
  if (check.status !== 200) throw new Error(`signed-in tile GET answered ${check.status}`);
  const anonymous = await fetch(`http://127.0.0.1:${hubPort}/tiles/${best.slideId}/${files[0]}`);
  if (anonymous.status !== 401) throw new Error(`anonymous tile GET answered ${anonymous.status}, expected 401`);

  // 4. nginx, one worker (one core, like the hub's one Node process), serving the same files.
  const conf = join(out, "nginx.conf");
  await writeFile(
    conf,
    `worker_processes 1; daemon off; pid ${join(out, "nginx.pid")}; error_log ${join(out, "nginx-error.log")};
events { worker_connections 1024; }
http { access_log off; sendfile on; keepalive_requests 100000;
  server { listen 127.0.0.1:${nginxPort}; root ${root}; location / { add_header Cache-Control "private, max-age=3600"; } } }
`,
  );
  nginx = spawn("nginx", ["-c", conf, "-p", out], { stdio: "inherit" });
  await waitFor(`http://127.0.0.1:${nginxPort}/${files[0]}`, 10);

  const run = (name: string, port: number, paths: string, cookie: string) => {
    const output = execFileSync("wrk", ["-t", "2", "-c", values.connections!, "-d", `${values.duration}s`, "--latency", "-s", join(import.meta.dirname, "random-tiles.lua"), `http://127.0.0.1:${port}`], {
      encoding: "utf8",
      env: { ...process.env, BENCH_PATHS: join(out, paths), BENCH_COOKIE: cookie },
    });
    const result = /RESULT requests=(\d+) seconds=([\d.]+) non2xx=(\d+) errors=(\d+) p50ms=([\d.]+) p99ms=([\d.]+)/.exec(output);
    if (!result) throw new Error(`wrk printed no result:\n${output}`);
    const [requests, seconds, non2xx, errors, p50, p99] = result.slice(1).map(Number) as number[];
    const perSecond = requests! / seconds!;
    console.log(`${name.padEnd(28)} ${perSecond.toFixed(0).padStart(7)} req/s   p50 ${p50!.toFixed(1).padStart(6)} ms   p99 ${p99!.toFixed(1).padStart(6)} ms   non-2xx ${non2xx}   errors ${errors}`);
    return { perSecond, p50: p50!, p99: p99!, non2xx: non2xx!, errors: errors! };
  };
  console.log(`${files.length} tiles of a ${best.count}-tile top level; ${values.connections} connections, ${values.duration} s each, random tiles`);
  const hubResult = run("hub (signed in, authorised)", hubPort, "hub-paths.txt", session);
  const nginxResult = run("nginx (static files)", nginxPort, "nginx-paths.txt", "");
  console.log(`hub/nginx throughput ${(hubResult.perSecond / nginxResult.perSecond).toFixed(2)}×, p99 ${(hubResult.p99 / nginxResult.p99).toFixed(1)}× nginx's`);
  await writeFile(join(out, "serve-results.json"), JSON.stringify({ hub: hubResult, nginx: nginxResult, tiles: files.length }, null, 2));
} finally {
  nginx?.kill();
  await hub.stop();
}
await rm(join(out, "nginx.pid"), { force: true });
