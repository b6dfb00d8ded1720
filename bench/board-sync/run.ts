/**
 * `npm run -w bench board-sync [-- --followers 1,10,30 --changes 200 --interval 50]`: how long a
 * presenter's view change takes to reach the members following a live tumor-board session on
 * loopback (target: p95 under 200 ms at 30 followers).
 *
 * The hub runs as `npm start` runs it (fresh embedded data, no demo slides). A slide is uploaded
 * through the browser's upload API, a board and a session are made over tRPC, the case goes on
 * the agenda and the session starts. Each follower is a signed-in member's SSE connection
 * (GET /api/boards/sessions/:id/live, read with fetch streaming); the presenter POSTs view
 * changes one at a time, every `interval` ms, as the browser's throttle does. The delay per
 * follower and change is from just before the POST is sent to the moment that follower has
 * parsed the event; sender and receivers share this process's clock.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { signInOverHttp, startHubProcess } from "@pathx/node/test-support";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";

const { values } = parseArgs({
  options: {
    followers: { type: "string", default: "1,30" },
    changes: { type: "string", default: "200" },
    interval: { type: "string", default: "50" },
    port: { type: "string", default: "3720" },
  },
});
const followerCounts = values.followers!.split(",").map(Number);
const changes = Number(values.changes);
const interval = Number(values.interval);
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}
const summary = (delays: number[]) => {
  const sorted = [...delays].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
};
const ms = (v: number) => v.toFixed(1).padStart(7);

/** One member's live connection: records, per change number, when its event was parsed. */
function follow(hub: string, sessionId: string, cookie: string, abort: AbortSignal) {
  const received = new Map<number, number>();
  let ready!: () => void;
  const connected = new Promise<void>((r) => (ready = r));
  const done = (async () => {
    const response = await fetch(`${hub}/api/boards/sessions/${sessionId}/live`, { headers: { cookie }, signal: abort });
    if (!response.ok || !response.body) throw new Error(`live connection answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (!data) continue;
        const event = JSON.parse(data.slice(6)) as { type: string; view?: { centre: [number, number] }; sentAt?: number };
        if (event.type === "state") ready();
        // The change number travels as the centre's x.
        if (event.type === "view") received.set(event.view!.centre[0], clock() - event.sentAt!);
      }
    }
  })().catch((error: unknown) => {
    if (!abort.aborted) throw error;
  });
  return { received, connected, done };
}

const work = await mkdtemp(join(tmpdir(), "bench-board-sync-"));
const hub = await startHubProcess({ port: Number(values.port), dataDir: join(work, "hub") });
try {
  const presenter = await signInOverHttp(hub.url, "pathologist@north.example");
  const memberEmails = ["pathologist@south.example", "admin@south.example", "pathologist@east.example", "admin@east.example", "admin@north.example"];
  const members = await Promise.all(memberEmails.map((email) => signInOverHttp(hub.url, email)));

  // A small slide of North's, uploaded as the browser does (one chunk).
  const bytes = writeTestTiff(pyramidImages(1024, 768, 256, 2, { pixelsPerCm: 40_000 })).bytes;
  const sha = createHash("sha256").update(bytes).digest("hex");
  const upload = await presenter.mutate<{ kind: string; uploadId: string }>("uploads.start", {
    fileName: "bench.tif",
    size: bytes.length,
    sha256: sha,
    meta: { accessionNumber: "B26-0001", block: "A1", stain: "H&E", specimen: "Bench specimen" },
  });
  const put = await fetch(`${hub.url}/api/uploads/${upload.uploadId}/chunks/0`, {
    method: "PUT",
    body: bytes,
    headers: { cookie: presenter.cookie(), "content-type": "application/octet-stream", "x-chunk-sha256": sha },
  });
  if (!put.ok) throw new Error(`chunk upload answered ${put.status}`);
  const { slideId } = await presenter.mutate<{ slideId: string }>("uploads.complete", { uploadId: upload.uploadId });

  const { id: boardId } = await presenter.mutate<{ id: string }>("boards.create", { name: "Bench board" });
  for (const email of memberEmails) await presenter.mutate("boards.addMember", { boardId, email });
  const { id: sessionId } = await presenter.mutate<{ id: string }>("boards.schedule", { boardId, scheduledAt: new Date().toISOString() });
  await presenter.mutate("boards.sessions.addCase", { sessionId, accessionNumber: "B26-0001" });
  await presenter.mutate("boards.sessions.start", { sessionId });

  const post = (body: object) =>
    fetch(`${hub.url}/api/boards/sessions/${sessionId}/view`, {
      method: "POST",
      headers: { cookie: presenter.cookie(), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  // Warm the route (its first request loads the module) before measuring.
  for (let i = 0; i < 5; i++) await post({ kind: "view", slideId, centre: [-1, 0], zoom: 1, rotation: 0, sentAt: clock() });

  const results = [];
  for (const count of followerCounts) {
    const abort = new AbortController();
    const followers = Array.from({ length: count }, (_, i) => follow(hub.url, sessionId, members[i % members.length]!.cookie(), abort.signal));
    await Promise.all(followers.map((f) => f.connected));
    const roundTrips: number[] = [];
    const started = clock();
    for (let change = 0; change < changes; change++) {
      const sentAt = clock();
      const response = await post({ kind: "view", slideId, centre: [change, 1000], zoom: 1 + change / 100, rotation: 0, sentAt });
      if (response.status !== 204) throw new Error(`view POST answered ${response.status}: ${await response.text()}`);
      roundTrips.push(clock() - sentAt);
      await sleep(Math.max(0, started + (change + 1) * interval - clock()));
    }
    await sleep(1000);
    abort.abort();
    await Promise.all(followers.map((f) => f.done));
    const all = followers.flatMap((f) => [...f.received.values()]);
    const perFollower = followers.map((f) => summary([...f.received.values()]));
    const lost = count * changes - all.length;
    const overall = summary(all);
    results.push({
      followers: count,
      changes,
      intervalMs: interval,
      delayMs: overall,
      postRoundTripMs: summary(roundTrips),
      worstFollowerP95Ms: Math.max(...perFollower.map((p) => p.p95)),
      lost,
    });
    console.log(
      `${String(count).padStart(3)} followers × ${changes} changes: delay p50 ${ms(overall.p50)} ms  p95 ${ms(overall.p95)} ms  p99 ${ms(overall.p99)} ms  max ${ms(overall.max)} ms` +
        `  (worst follower's p95 ${ms(Math.max(...perFollower.map((p) => p.p95)))} ms; POST round trip p50 ${ms(summary(roundTrips).p50)} ms; events lost ${lost})`,
    );
  }
  console.log(JSON.stringify({ loadAverage: (await import("node:os")).loadavg().map((l) => Number(l.toFixed(2))), results }, null, 2));
} finally {
  await hub.stop();
  await rm(work, { recursive: true, force: true });
}
