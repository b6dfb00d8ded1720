import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type HubProcess, signInOverHttp, startHubProcess } from "./test-support";

// The hub as `npm start` runs it, attacked with bodies it must not read: too large (declared or
// chunked), for an upload that does not exist, unauthenticated, or too slow to arrive.
const PORT = 3447 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
const BODY_TIMEOUT_MS = 2000;
const MB = 1024 * 1024;
let hub: HubProcess;
let work: string;
let credential: string;
let session: Awaited<ReturnType<typeof signInOverHttp>>;

/** Resident memory of the hub's whole process group (web app, workers, embedded database), in bytes. */
function groupRss(leader: number): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== leader) continue; // process group id
      total += Number(fields[21]) * 4096; // rss in pages
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/**
 * Sends up to `total` bytes in 1 MB writes (chunked unless a length is declared), stopping as soon
 * as the hub answers; resolves with the status and how much was sent by then.
 */
function stream(path: string, options: { method?: string; headers?: Record<string, string>; total: number; stallAfter?: number }) {
  return new Promise<{ status: number; sent: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(`${hub.url}${path}`, { method: options.method ?? "POST", headers: options.headers }, (response) => {
      answered = true;
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode!, sent }));
    });
    req.on("error", (error) => (answered ? undefined : reject(error)));
    // No answer at all within 30 s is a failure of its own (status 0), not a hung test.
    setTimeout(() => {
      if (answered) return;
      answered = true;
      req.destroy();
      resolve({ status: 0, sent });
    }, 30_000).unref();
    const chunk = Buffer.alloc(MB, 0x20);
    const pump = () => {
      while (!answered && sent < options.total) {
        if (options.stallAfter !== undefined && sent >= options.stallAfter) return; // and never send the rest
        const piece = options.stallAfter !== undefined ? chunk.subarray(0, options.stallAfter - sent) : chunk;
        sent += piece.length;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      if (!answered && sent >= options.total) req.end();
    };
    pump();
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "body-limits-"));
  hub = await startHubProcess({ port: PORT, dataDir: join(work, "hub"), env: { BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) } });
  session = await signInOverHttp(hub.url, "admin@north.example");
  const { token } = await session.mutate<{ token: string }>("nodes.createEnrollmentToken");
  const enrolled = await fetch(`${hub.url}/api/node/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, name: "test node" }),
  });
  credential = ((await enrolled.json()) as { credential: string }).credential;
}, 300_000);

afterAll(async () => {
  await hub?.stop();
  await rm(work, { recursive: true, force: true });
});

it("refuses oversized, unauthenticated and slow bodies while streaming, keeps its memory and answers others", async () => {
  const leader = hub.pid()!;
  const before = groupRss(leader);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, groupRss(leader))), 100);
  const node = { authorization: `Bearer ${credential}` };
  const unknownUpload = "00000000-0000-4000-8000-000000000000";
  const attacks = Promise.all([
    // Four anonymous 400 MB enrolments at once (chunked: no Content-Length to refuse on).
    ...Array.from({ length: 4 }, () => stream("/api/node/enroll", { headers: { "content-type": "application/json" }, total: 400 * MB })),
    // 512 MB for a chunk of an upload that does not exist, by an enrolled node.
    stream(`/api/node/uploads/${unknownUpload}/chunks/0`, { method: "PUT", headers: node, total: 512 * MB }),
    // The same without a credential.
    stream(`/api/node/uploads/${unknownUpload}/chunks/0`, { method: "PUT", total: 512 * MB }),
    // A browser chunk without a session.
    stream(`/api/uploads/${unknownUpload}/chunks/0`, { method: "PUT", total: 512 * MB }),
    // 200 MB of JSON to tRPC, signed in.
    stream("/api/trpc/inbox.markRead", { headers: { cookie: session.cookie(), "content-type": "application/json" }, total: 200 * MB }),
    // 100 MB chunked to the snapshot route, signed in.
    stream(`/api/boards/sessions/${unknownUpload}/snapshots/${unknownUpload}`, { headers: { cookie: session.cookie() }, total: 100 * MB }),
    // An index batch too large, by the node.
    stream("/api/node/index", { headers: { ...node, "content-type": "application/json" }, total: 200 * MB }),
  ]);
  // Meanwhile another user is answered.
  const me = await session.query<{ email: string }>("me");
  expect(me.email).toBe("admin@north.example");
  const results = await attacks;
  console.log(`attack answers: ${results.map((r) => `${r.status} after ${Math.round(r.sent / MB)} MB`).join(", ")}`);
  // Over the limit: 413 as soon as the count passes it (or 408 if, on a loaded machine, the limit
  // is not reached within the body timeout: refused while streaming either way).
  const refused = (status: number) => (status === 413 || status === 408 ? "refused while streaming" : status);
  expect(results.map((r) => refused(r.status))).toEqual([
    ...Array(4).fill("refused while streaming"),
    404,
    401,
    401,
    ...Array(3).fill("refused while streaming"),
  ]);
  // Cut off early: nothing near what was offered was read.
  for (const r of results) expect(r.sent).toBeLessThan(100 * MB);
  // 10 MB declared, 10 bytes sent, then silence: refused at once, the declaration is over the limit.
  const declared = await stream("/api/node/enroll", {
    headers: { "content-type": "application/json", "content-length": String(10 * MB) },
    total: 10 * MB,
    stallAfter: 10,
  });
  expect(declared.status).toBe(413);
  // Within the limit but never finished: it ends with 408 once the body timeout has passed.
  const slow = await stream("/api/node/enroll", { headers: { "content-type": "application/json", "content-length": "4000" }, total: 4000, stallAfter: 10 });
  expect(slow.status).toBe(408);
  clearInterval(sampler);
  peak = Math.max(peak, groupRss(leader));
  console.log(
    `hub process group RSS: ${Math.round(before / MB)} MB before, ${Math.round(peak / MB)} MB peak under ${4 * 400 + 3 * 512 + 200 + 100 + 200} MB of attack bodies`,
  );
  expect(peak - before).toBeLessThan(200 * MB);
  expect((await session.query<{ email: string }>("me")).email).toBe("admin@north.example");
});
