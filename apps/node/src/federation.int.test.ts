import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { pyramidImages, tissuePixel, writeTestTiff } from "@pathx/wsi/test-support";
import { type HubProcess, runPathx, signInOverHttp, spawnPathx, startHubProcess } from "./test-support";

// Real processes on loopback: the hub as `npm start` runs it, and the `pathx` command line as a
// lab runs it. The test talks to both over HTTP and the command line only.
// PATHX_TEST_PORT_OFFSET lets several checkouts run their suites side by side.
const PORT = 3420 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
let hub: HubProcess;
let work: string;
const pseudonymKey = "integration-pseudonym-key-shared-by-labs";
type Session = Awaited<ReturnType<typeof signInOverHttp>>;
type SlideView = { id: string; status: string; failureReason: string | null; indexOnly: boolean; case: { accessionNumber: string } };

function nodeEnv(name: string) {
  return { PATHX_NODE_CONFIG: join(work, name, "node.json"), PATHX_PSEUDONYM_KEY: pseudonymKey };
}

async function enrolNode(admin: Session, name: string, hubUrl = hub.url) {
  const { token } = await admin.mutate<{ token: string }>("nodes.createEnrollmentToken");
  const enrolled = await runPathx(["node", "enroll", "--hub", hubUrl, "--token", token, "--name", name], nodeEnv(name));
  expect(enrolled.stderr).toBe("");
  return nodeEnv(name);
}

/** A small pyramidal slide whose bytes differ by `seed` (its description), so each test's file is its own. */
async function writeSlide(name: string, seed: number, size = 1200) {
  const path = join(work, name);
  await writeFile(path, writeTestTiff(pyramidImages(size, (size * 3) / 4, 256, 2, { pixelsPerCm: 40_000, description: `integration slide ${seed}` })).bytes);
  return path;
}

/** About 42 MB uncompressed: six 8 MiB chunks, slow enough at --max-rate 8 to kill something mid-upload. */
async function writeLargeSlide(name: string, seed: number) {
  const path = join(work, name);
  await writeFile(path, writeTestTiff([{ width: 3800, height: 3800, tileSize: 256, compression: "none", pixel: (x, y) => tissuePixel(x + seed, y) }]).bytes);
  return path;
}

/**
 * A proxy between a node and the hub that sees every chunk the node sends and what the hub
 * answered. `onChunk` may damage a chunk's bytes, or hold the request (never forward nor answer
 * it: the node waits, as on a stalled connection). `onAnswer` runs once the hub's answer to a
 * chunk has arrived (its status), before the node gets it; the proxy waits for it.
 */
async function startChunkProxy(onChunk: (index: string, bytes: Buffer) => Buffer | "hold", onAnswer?: (index: string, status: number) => Promise<void> | void) {
  const seen: { index: string; status: number }[] = [];
  const proxy: Server = createServer(async (req, res) => {
    const body: Buffer[] = [];
    for await (const part of req) body.push(part as Buffer);
    let bytes: Buffer = Buffer.concat(body);
    const chunk = /\/chunks\/(\d+)$/.exec(req.url ?? "");
    if (chunk) {
      const decided = onChunk(chunk[1]!, bytes);
      if (decided === "hold") return;
      bytes = decided;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !["host", "content-length", "connection"].includes(k))) as Record<
      string,
      string
    >;
    try {
      const answer = await fetch(`${hub.url}${req.url}`, { method: req.method, headers, body: ["GET", "HEAD"].includes(req.method ?? "") ? undefined : bytes });
      if (chunk) {
        seen.push({ index: chunk[1]!, status: answer.status });
        await onAnswer?.(chunk[1]!, answer.status);
      }
      const payload = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      res.end(payload);
    } catch {
      // The hub went down before or while answering: the node sees its connection fail, as it
      // would without the proxy (never an answer that does not come).
      res.destroy();
    }
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    seen,
    close: () => {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}

async function waitForSlide(session: Session, id: string, status: string, seconds = 90): Promise<SlideView> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const slide = await session.query<SlideView>("slides.get", { id });
    if (slide.status === status) return slide;
    if (slide.status === "failed" || Date.now() > deadline)
      throw new Error(`slide ${id} is ${slide.status} (${slide.failureReason ?? ""}), expected ${status}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const slideIdOf = (stdout: string) => /slide ([0-9a-f-]{36})/.exec(stdout)?.[1] ?? "";

let northAdmin: Session;
let northPathologist: Session;
let southAdmin: Session;
let southPathologist: Session;
let northNode: Record<string, string>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pathx-federation-"));
  hub = await startHubProcess({ port: PORT, dataDir: join(work, "hub") });
  northAdmin = await signInOverHttp(hub.url, "admin@north.example");
  northPathologist = await signInOverHttp(hub.url, "pathologist@north.example");
  southAdmin = await signInOverHttp(hub.url, "admin@south.example");
  southPathologist = await signInOverHttp(hub.url, "pathologist@south.example");
  northNode = await enrolNode(northAdmin, "north-node");
}, 300_000);

afterAll(async () => {
  await hub?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("hub and lab node processes on loopback", () => {
  it("enrols with a one-time token and publishes a slide that arrives intact and is tiled", async () => {
    const slide = await writeSlide("N26-5000-A1.tif", 1);
    const published = await runPathx(["node", "publish", slide, "--case", "N26-5000", "--block", "A1", "--stain", "H&E", "--patient", "1234567890"], northNode);
    expect(published.stderr).toBe("");
    const id = slideIdOf(published.stdout);
    const ready = await waitForSlide(northPathologist, id, "ready");
    expect(ready.case.accessionNumber).toBe("N26-5000");
    // The same file again is the same slide.
    expect((await runPathx(["node", "publish", slide, "--case", "N26-5000"], northNode)).stdout).toContain(`already published as slide ${id}`);
    // The token was for one use only.
    const config = JSON.parse(await readFile(northNode.PATHX_NODE_CONFIG!, "utf8")) as { credential: string };
    expect(config.credential).toMatch(/^pxn_/);
  });

  it("resumes after the node is killed (kill -9) mid-upload, sending only the missing chunks", async () => {
    // The node is killed once the hub has confirmed two of the six chunks and the third is on
    // its way (held by the proxy): a state, not a time, so a loaded machine changes nothing.
    let held: () => void = () => {};
    const thirdOnItsWay = new Promise<void>((r) => (held = r));
    let holding = true;
    const proxy = await startChunkProxy((_index, bytes) => {
      if (!holding || proxy.seen.filter((c) => c.status === 200).length < 2) return bytes;
      held();
      return "hold";
    });
    try {
      const node = await enrolNode(northAdmin, "north-node-killed", proxy.url);
      const slide = await writeLargeSlide("N26-5001-A1.tif", 11);
      const publish = spawnPathx(["node", "publish", slide, "--case", "N26-5001"], node);
      await thirdOnItsWay;
      publish.child.kill("SIGKILL");
      await publish.exited;
      expect(proxy.seen).toEqual([
        { index: "0", status: 200 },
        { index: "1", status: 200 },
      ]);
      proxy.seen.length = 0;
      holding = false;
      const resumed = await runPathx(["node", "publish", slide, "--case", "N26-5001"], node);
      expect(resumed.stderr).toBe("");
      expect(resumed.stdout).toMatch(/\(4 chunk\(s\) sent\)/);
      expect(proxy.seen.map((c) => c.index)).toEqual(["2", "3", "4", "5"]);
      await waitForSlide(northPathologist, slideIdOf(resumed.stdout), "ready");
    } finally {
      proxy.close();
    }
  });

  it("carries on after the hub is killed (kill -9) the moment it confirmed a chunk, and started again at once", async () => {
    let stage = "enrolling a node behind the relay";
    let output = () => "";
    // A failure says where it stopped, with what the node and the hub last printed.
    onTestFailed(() => {
      console.error(`stopped while ${stage}\nnode: ${output().slice(-1500)}\nhub log: ${readFileSync(hub.log, "utf8").slice(-3000)}`);
    });
    // The worst moment: the hub has stored a chunk and recorded it in its database, its answer
    // has not reached the node yet, and more chunks are to come. The relay holds that answer
    // until the whole hub (web app, workers, embedded database) is gone.
    let killing: (killed: Promise<void>) => void = () => {};
    const killed = new Promise<Promise<void>>((r) => (killing = r));
    let kills = 0;
    const proxy = await startChunkProxy(
      (_index, bytes) => bytes,
      (_index, status) => {
        if (status !== 200 || kills++ > 0) return;
        const gone = hub.kill9();
        killing(gone);
        return gone;
      },
    );
    try {
      const node = await enrolNode(northAdmin, "north-node-hub-restarts", proxy.url);
      const slide = await writeLargeSlide("N26-5002-A1.tif", 23);
      stage = "publishing until the hub confirms a chunk";
      const publish = spawnPathx(["node", "publish", slide, "--case", "N26-5002", "--max-rate", "8"], node);
      output = publish.output;
      await await killed;
      stage = "starting the hub again";
      await hub.restart();
      stage = "waiting for the node to finish";
      // The node's attempts failed while the hub was down; it tries again and finishes on its own.
      expect(await publish.exited, publish.output()).toBe(0);
      const confirmed = proxy.seen.filter((c) => c.status === 200).map((c) => c.index);
      expect(confirmed.length, JSON.stringify(proxy.seen)).toBeGreaterThan(1); // chunks after the restart too
      expect(new Set(confirmed)).toEqual(new Set(["0", "1", "2", "3", "4", "5"]));
      stage = "waiting for the slide to be ready";
      const id = slideIdOf(publish.output());
      expect(id).not.toBe("");
      // The restarted hub checked the whole file's SHA-256 on completion; tiling reads it back.
      northPathologist = await signInOverHttp(hub.url, "pathologist@north.example");
      await waitForSlide(northPathologist, id, "ready");
      northAdmin = await signInOverHttp(hub.url, "admin@north.example");
    } finally {
      proxy.close();
    }
    // A hub restart takes about a minute on a loaded 2-core machine, and the node's pauses grow to 30 s.
  }, 300_000);

  it("rejects a chunk damaged on the way (checksum) and the node sends it again", async () => {
    // A proxy between node and hub that flips one byte of the first chunk it carries.
    let damaged = false;
    const proxy = await startChunkProxy((_index, bytes) => {
      if (damaged) return bytes;
      damaged = true;
      const copy = Buffer.from(bytes);
      copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0xff;
      return copy;
    });
    try {
      const env = await enrolNode(northAdmin, "north-node-behind-proxy", proxy.url);
      const slide = await writeSlide("N26-5003-A1.tif", 3);
      const published = await runPathx(["node", "publish", slide, "--case", "N26-5003"], env);
      expect(published.stderr).toBe("");
      expect(proxy.seen).toEqual([
        { index: "0", status: 422 },
        { index: "0", status: 200 },
      ]);
      await waitForSlide(northPathologist, slideIdOf(published.stdout), "ready");
    } finally {
      proxy.close();
    }
  });

  it("registers a slide index-only, then fetches it from the node when someone opens it", async () => {
    const slide = await writeSlide("N26-5004-B1.tif", 4, 2000);
    const registered = await runPathx(["node", "publish", slide, "--case", "N26-5004", "--block", "B1", "--index-only"], northNode);
    expect(registered.stdout).toContain("registered");
    const listed = (await northPathologist.query<(SlideView & { accessionNumber: string })[]>("slides.list", { search: "N26-5004" }))[0]!;
    expect(listed).toMatchObject({ status: "indexed", indexOnly: true });
    const thumbnail = await fetch(`${hub.url}/slides/${listed.id}/thumbnail`, { headers: { cookie: northPathologist.cookie() } });
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("content-type")).toBe("image/jpeg");
    // Registering again changes nothing.
    expect((await runPathx(["node", "publish", slide, "--case", "N26-5004", "--index-only"], northNode)).stdout).toContain("already registered");

    const serve = spawnPathx(["node", "serve"], northNode);
    try {
      // Opening the slide's page is the request.
      const html = await northPathologist.page(`/slides/${listed.id}`);
      expect(html.replaceAll("<!-- -->", "")).toContain("Fetching from North Pathology Lab … waiting for the lab");
      const opened = Date.now();
      const ready = await waitForSlide(northPathologist, listed.id, "ready");
      // The node picks the order up within a poll interval, not after its 25 s long poll ends.
      expect(Date.now() - opened).toBeLessThan(20_000);
      expect(ready.indexOnly).toBe(false);
      // The node says "sent" once the hub confirmed completion, which may come after "ready" shows.
      await expect.poll(() => serve.output(), { timeout: 30_000 }).toMatch(/order for N26-5004-B1\.tif: sent/);
      // The viewer's path: a tile token from the hub, then the descriptor from the tile service.
      const grant = await northPathologist.mutate<{ dziUrl: string; token: string }>("slides.tileToken", { id: listed.id });
      const dzi = await fetch(`${grant.dziUrl}?t=${encodeURIComponent(grant.token)}`);
      expect(dzi.status).toBe(200);
      expect(await dzi.text()).toContain('Width="2000"');
    } finally {
      serve.child.kill("SIGTERM");
      await serve.exited;
    }
  });

  it("registers an archive backlog index-only in batches, resumes, and says which files it could not take", async () => {
    const archive = join(work, "archive");
    for (let i = 0; i < 12; i++) {
      const folder = join(archive, `20${20 + (i % 3)}`, `box-${Math.floor(i / 4)}`);
      await mkdir(folder, { recursive: true });
      const slide = await writeSlide(`E26-${8000 + i}-A1.tif`, 100 + i);
      await rename(slide, join(folder, `E26-${8000 + i}-A1.tif`));
      if (i === 5) continue; // no sidecar
      await writeFile(
        join(folder, `E26-${8000 + i}-A1.json`),
        i === 7 ? "{not json" : JSON.stringify({ case: `E26-${8000 + i}`, block: "A1", stain: "H&E", patient: `P-${i}` }),
      );
    }
    const eastAdmin = await signInOverHttp(hub.url, "admin@east.example");
    const eastNode = await enrolNode(eastAdmin, "east-node");
    const first = await runPathx(["node", "backlog", archive, "--batch", "4"], eastNode);
    expect(first.code).toBe(1); // two files need the lab's attention
    expect(first.stdout).toMatch(/12 slide file\(s\) found, 10 registered index-only, 0 already known, 0 done in an earlier run, 2 with problems/);
    expect(first.stdout).toMatch(/E26-8005-A1\.tif: no sidecar/);
    expect(first.stdout).toMatch(/E26-8007-A1\.tif: sidecar is not valid JSON/);
    const again = await runPathx(["node", "backlog", archive], eastNode);
    expect(again.stdout).toMatch(/0 registered index-only, 0 already known, 12 done in an earlier run/);
    const restarted = await runPathx(["node", "backlog", archive, "--restart"], eastNode);
    expect(restarted.stdout).toMatch(/0 registered index-only, 10 already known/);
    const listed = await (await signInOverHttp(hub.url, "pathologist@east.example")).query<(SlideView & { accessionNumber: string })[]>("slides.list", {
      search: "E26-80",
    });
    expect(listed).toHaveLength(10);
    expect(listed.every((s) => s.status === "indexed")).toBe(true);

    // The watch-mode setting: new slides of a folder are registered index-only too.
    const inbox = join(work, "east-inbox");
    await mkdir(inbox);
    await rename(await writeSlide("E26-8100-A1.tif", 200), join(inbox, "E26-8100-A1.tif"));
    await writeFile(join(inbox, "E26-8100-A1.json"), JSON.stringify({ case: "E26-8100" }));
    const watched = await runPathx(["node", "watch", inbox, "--once", "--index-only", "--interval", "0.2"], eastNode);
    expect(watched.stdout).toContain("E26-8100-A1.tif: registered index-only");
  });

  it("loses and duplicates no record when 10 nodes backlog into the hub at once, one of them twice over the same archive", async () => {
    const labs = ["east", "north", "south"] as const;
    const sources = await Promise.all([0, 1, 2].map((k) => writeSlide(`many-source-${k}.tif`, 300 + k)));
    const perNode = 40;
    const nodes: { env: Record<string, string>; archive: string; lab: (typeof labs)[number] }[] = [];
    for (let n = 0; n < 10; n++) {
      const lab = labs[n % labs.length]!;
      const archive = join(work, `many-${n}`);
      for (let i = 0; i < perNode; i++) {
        const folder = join(archive, `box-${i % 3}`);
        await mkdir(folder, { recursive: true });
        const name = `M26-${String(n).padStart(2, "0")}-${String(i).padStart(3, "0")}-A1`;
        await link(sources[i % sources.length]!, join(folder, `${name}.tif`));
        await writeFile(join(folder, `${name}.json`), JSON.stringify({ case: `M26-${n}-${Math.floor(i / 2)}`, block: "A1", patient: `PM-${n}-${i}` }));
      }
      nodes.push({ env: await enrolNode(await signInOverHttp(hub.url, `admin@${lab}.example`), `many-node-${n}`), archive, lab });
    }
    // Small batches, so the nodes' batches interleave at the hub; node 0 runs twice over its archive at the same time.
    const runs = [...nodes, nodes[0]!].map((node) => spawnPathx(["node", "backlog", node.archive, "--batch", "7", "--restart"], node.env));
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes, runs.map((r) => r.output()).join("\n")).toEqual(runs.map(() => 0));
    const counted = runs.map((r) => /(\d+) registered index-only, (\d+) already known/.exec(r.output())!.slice(1).map(Number));
    // Each run accounts for every slide; node 0's two runs together registered each of its slides once.
    for (const [registered, known] of counted) expect(registered! + known!).toBe(perNode);
    expect(counted[0]![0]! + counted[10]![0]!).toBe(perNode);
    for (const [n, node] of nodes.entries()) {
      const session = await signInOverHttp(hub.url, `pathologist@${node.lab}.example`);
      const listed = await session.query<(SlideView & { fileName: string })[]>("slides.list", { search: `M26-${String(n).padStart(2, "0")}-` });
      const names = listed.map((s) => s.fileName).sort();
      expect(names).toEqual(Array.from({ length: perNode }, (_, i) => `M26-${String(n).padStart(2, "0")}-${String(i).padStart(3, "0")}-A1.tif`));
      expect(listed.every((s) => s.status === "indexed")).toBe(true);
    }
    // A thumbnail from a batch's shared object, as the dashboard asks for it.
    const east = await signInOverHttp(hub.url, "pathologist@east.example");
    const [one] = await east.query<SlideView[]>("slides.list", { search: "M26-00-007" });
    const thumbnail = await fetch(`${hub.url}/slides/${one!.id}/thumbnail`, { headers: { cookie: east.cookie() } });
    expect(thumbnail.status).toBe(200);
    expect(Buffer.from(await thumbnail.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  }, 600_000);

  it("keeps a lab's node inside its lab: another lab's uploads and orders are not found, a lab header is ignored", async () => {
    const southNode = await enrolNode(southAdmin, "south-node");
    const credentialOf = async (env: Record<string, string>) =>
      (JSON.parse(await readFile(env.PATHX_NODE_CONFIG!, "utf8")) as { credential: string }).credential;
    const [north, south] = [await credentialOf(northNode), await credentialOf(southNode)];
    const bytes = await readFile(await writeSlide("S26-5005-A1.tif", 5));
    const sha = createHash("sha256").update(bytes).digest("hex");
    const call = (credential: string, path: string, init: RequestInit = {}) =>
      fetch(`${hub.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${credential}`, "content-type": "application/json", ...(init.headers as Record<string, string>) },
      });
    const start = (credential: string, accession: string, headers: Record<string, string> = {}) =>
      call(credential, "/api/node/uploads", {
        method: "POST",
        headers,
        body: JSON.stringify({
          fileName: `${accession}.tif`,
          size: bytes.length,
          sha256: sha,
          meta: { accessionNumber: accession, block: "A1", stain: "", specimen: "" },
        }),
      }).then(async (r) => {
        const answer = (await r.json()) as { uploadId: string; kind: string };
        expect(answer.kind, JSON.stringify(answer)).toBe("open");
        return answer;
      });

    const southUpload = await start(south, "S26-5005");
    const put = await call(north, `/api/node/uploads/${southUpload.uploadId}/chunks/0`, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": "application/octet-stream", "x-chunk-sha256": sha },
    });
    expect(put.status).toBe(404);
    expect((await call(north, `/api/node/uploads/${southUpload.uploadId}/complete`, { method: "POST", body: "{}" })).status).toBe(404);

    // Asking for the other lab by header: the node's lab is the credential's, whatever it says.
    const northUpload = await start(north, "N26-5005", { "x-pathx-lab": "south" });
    expect(
      (
        await call(north, `/api/node/uploads/${northUpload.uploadId}/chunks/0`, {
          method: "PUT",
          body: bytes,
          headers: { "content-type": "application/octet-stream", "x-chunk-sha256": sha },
        })
      ).status,
    ).toBe(200);
    const done = (await (await call(north, `/api/node/uploads/${northUpload.uploadId}/complete`, { method: "POST", body: "{}" })).json()) as {
      slideId: string;
    };
    expect((await northPathologist.query<SlideView>("slides.get", { id: done.slideId })).case.accessionNumber).toBe("N26-5005");
    await expect(southPathologist.query("slides.get", { id: done.slideId })).rejects.toThrow(/not found/i);
    expect((await southPathologist.query<unknown[]>("slides.list", { search: "N26-5005" })).length).toBe(0);

    // An order of the south lab cannot be answered by the north node.
    const southSlide = await writeSlide("S26-5006-A1.tif", 6);
    expect((await runPathx(["node", "publish", southSlide, "--case", "S26-5006", "--index-only"], southNode)).code).toBe(0);
    const indexed = (await southPathologist.query<SlideView[]>("slides.list", { search: "S26-5006" }))[0]!;
    await southPathologist.mutate("slides.requestFetch", { id: indexed.id });
    const orders = (await (await call(south, "/api/node/orders?wait=0")).json()) as { orders: { orderId: string }[] };
    expect(orders.orders).toHaveLength(1);
    expect((await (await call(north, "/api/node/orders?wait=0")).json()) as unknown).toEqual({ orders: [] });
    expect((await call(north, `/api/node/orders/${orders.orders[0]!.orderId}/fail`, { method: "POST", body: JSON.stringify({ reason: "x" }) })).status).toBe(
      404,
    );
  });

  it("refuses a revoked node, with a message that says what to do", async () => {
    const env = await enrolNode(southAdmin, "south-node-to-revoke");
    const slide = await writeSlide("S26-5007-A1.tif", 7);
    const nodes = await southAdmin.query<{ id: string; name: string }[]>("nodes.list");
    await southAdmin.mutate("nodes.revoke", { nodeId: nodes.find((n) => n.name === "south-node-to-revoke")!.id });
    const refused = await runPathx(["node", "publish", slide, "--case", "S26-5007"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/revoked: enrol it again with a new token/);
    const serve = await runPathx(["node", "serve"], env);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toMatch(/revoked/);
  });
});
