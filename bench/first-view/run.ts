/**
 * `npm run -w bench first-view [-- --rounds 5 --slide N26-0001/A1 --other N26-0002/B1]`: time from
 * navigating to a slide page of the hub to the viewer's first field of view drawn, in Chromium
 * (issue 10: under 1 s warm).
 *
 * The hub is started as the e2e suite runs it (`scripts/start.sh` with the demo data, through
 * `startHubProcess`), Chromium with the e2e suite's launch options, and a pathologist signs in
 * with the e2e suite's `signIn`. Once every demo slide's background job is done the hub is
 * stopped; then each round starts it again on the same data (web app, tile service and workers
 * fresh), signs in in a new browser context (empty cache), and opens:
 *   cold          the slide page, first time after the start;
 *   warm, same    the same page again (after about:blank, so a full navigation);
 *   warm, other   another slide of the same lab, not seen since the start.
 * "Drawn" is the viewer's `data-first-view-ms` (slide-viewer.tsx): OpenSeadragon's
 * fully-loaded-change, i.e. every tile of the view at its resolution loaded and drawn, in ms
 * since navigation start. The split comes from the page's own Navigation and Resource Timing, and
 * Playwright's requestfinished timings give the waterfall kept in the results.
 * Ports: --port, else 3750 + PATHX_TEST_PORT_OFFSET (and +1 for the tile service, +10 000 for the database).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type Browser, type Page, chromium } from "@playwright/test";
import { sql } from "drizzle-orm";
import { createDb, readDbEnv } from "@pathx/db";
import { startHubProcess } from "@pathx/node/test-support";
import e2eConfig from "../../e2e/playwright.config";
import { signIn } from "../../e2e/sign-in";
import { waitFor } from "../lib/hub";

// The functions handed to page.evaluate run in Chromium (serialised: they may use no names of this
// module); the bench's tsconfig has no DOM types (adding them would retype Node's fetch for every
// bench), so these declare only what those functions touch.
declare const document: { querySelector(selector: string): { dataset: Record<string, string | undefined> } | null };
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface PageTiming {
  name: string;
  startTime: number;
  responseStart: number;
  responseEnd: number;
}
interface PagePerformance {
  timeOrigin: number;
  getEntriesByType(type: "navigation" | "resource"): PageTiming[];
  setResourceTimingBufferSize(n: number): void;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    slide: { type: "string", default: "N26-0001/A1" },
    other: { type: "string", default: "N26-0002/B1" },
    user: { type: "string", default: "pathologist@north.example" },
    port: { type: "string", default: String(3750 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0)) },
    keep: { type: "boolean", default: false },
  },
});
const rounds = Number(values.rounds);
const port = Number(values.port);
const out = resolve(import.meta.dirname, "../out/first-view");
const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
const load1 = () => loadavg()[0]!.toFixed(2);

type Kind = "cold" | "warm, same slide" | "warm, other slide";
interface Request {
  url: string;
  /** ms since navigation start (Playwright's timing, wall clock of the browser). */
  start: number;
  end: number;
  ttfb: number;
  status: number;
}
interface Sample {
  round: number;
  kind: Kind;
  slide: string;
  load1: string;
  /** Navigation start → every tile of the first view drawn. */
  firstViewMs: number;
  /** Navigation start → first byte and last byte of the page's HTML. */
  htmlTtfbMs: number;
  htmlMs: number;
  /** HTML received → the viewer asks for its tile token, or for the DZI when the page brought the token (scripts, hydration). */
  scriptMs: number;
  /** Token (or DZI) asked → DZI received (token round trip, DZI round trip, and what waits between them). */
  tokenDziMs: number;
  /** 0: the token came with the page. */
  tokenMs: number;
  dziMs: number;
  dziRequests: number;
  /** DZI received → first view drawn (OpenSeadragon opens, asks and draws the tiles). */
  tilesMs: number;
  tiles: number;
  /** Distinct colours in the canvas at first view (the e2e viewer spec's "tissue is drawn"). */
  colours: number;
  waterfall: Request[];
}

/** Opens a slide page and waits for the viewer's first field of view; returns the timings. */
async function openSlide(page: Page, url: string): Promise<Omit<Sample, "round" | "kind" | "slide" | "load1">> {
  const requests: Request[] = [];
  let navigationStart = 0;
  const pending: Promise<void>[] = [];
  const onFinished = (request: import("@playwright/test").Request) =>
    // blob: URLs are OpenSeadragon handing a fetched tile to an <img>, not network requests.
    request.url().startsWith("blob:") ||
    pending.push(
      (async () => {
        const t = request.timing();
        const status = (await request.response())?.status() ?? 0;
        requests.push({ url: request.url(), start: t.startTime, end: t.startTime + t.responseEnd, ttfb: t.responseStart, status });
      })(),
    );
  await page.goto("about:blank");
  page.on("requestfinished", onFinished);
  await page.goto(url, { waitUntil: "commit" });
  const viewer = page.getByTestId("viewer");
  const handle = await page.waitForFunction(() => document.querySelector("[data-testid=viewer]")?.dataset.firstViewMs, undefined, {
    timeout: 180_000,
    polling: 50,
  });
  const firstViewMs = Number(await handle.jsonValue());
  const colours = await viewer
    .locator("canvas")
    .first()
    .evaluate((element) => {
      const canvas = element as unknown as PageCanvas;
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
  const timing = await page.evaluate(() => {
    const timeline = performance as unknown as PagePerformance;
    const nav = timeline.getEntriesByType("navigation")[0]!;
    const resources = timeline.getEntriesByType("resource").map((r) => ({ name: r.name, start: r.startTime, end: r.responseEnd }));
    return { timeOrigin: timeline.timeOrigin, responseStart: nav.responseStart, responseEnd: nav.responseEnd, resources };
  });
  page.off("requestfinished", onFinished);
  await Promise.all(pending);
  navigationStart = timing.timeOrigin;
  const before = timing.resources.filter((r) => r.start <= firstViewMs);
  const token = before.find((r) => r.name.includes("/api/trpc/slides.tileToken"));
  const dzis = before.filter((r) => /\.dzi(\?|$)/.test(r.name));
  const tiles = before.filter((r) => r.name.includes("_files/"));
  if (!dzis.length) throw new Error(`no DZI request seen before the first view (${before.map((r) => r.name).join(", ")})`);
  const dzi = dzis[0]!;
  // With the token rendered into the page there is no token request: the viewer starts with the DZI.
  const viewerStart = token?.start ?? dzi.start;
  return {
    firstViewMs,
    htmlTtfbMs: timing.responseStart,
    htmlMs: timing.responseEnd,
    scriptMs: viewerStart - timing.responseEnd,
    tokenDziMs: dzi.end - viewerStart,
    tokenMs: token ? token.end - token.start : 0,
    dziMs: dzi.end - dzi.start,
    dziRequests: dzis.length,
    tilesMs: firstViewMs - dzi.end,
    tiles: tiles.length,
    colours,
    waterfall: requests
      .map((r) => ({ ...r, start: r.start - navigationStart, end: r.end - navigationStart }))
      .filter((r) => r.start <= firstViewMs)
      .sort((a, b) => a.start - b.start),
  };
}

/** One line per request (tiles folded into one), start → end in ms since navigation start. */
function formatWaterfall(requests: Request[]): string {
  const short = (url: string) => {
    const u = new URL(url);
    return (
      (u.pathname.length > 70 ? `${u.pathname.slice(0, 34)}…${u.pathname.slice(-34)}` : u.pathname) + (u.searchParams.has("t") ? "?t=…" : u.search.slice(0, 20))
    );
  };
  const tiles = requests.filter((r) => r.url.includes("_files/"));
  const lines = requests
    .filter((r) => !r.url.includes("_files/"))
    .map((r) => `    ${r.start.toFixed(0).padStart(5)} → ${r.end.toFixed(0).padStart(5)} ms  ${r.status}  ${short(r.url)}`);
  if (tiles.length) {
    const durations = tiles.map((t) => t.end - t.start).sort((a, b) => a - b);
    lines.push(
      `    ${Math.min(...tiles.map((t) => t.start))
        .toFixed(0)
        .padStart(5)} → ${Math.max(...tiles.map((t) => t.end))
        .toFixed(0)
        .padStart(
          5,
        )} ms  ${tiles.length} tiles (each ${durations[0]!.toFixed(0)}–${durations.at(-1)!.toFixed(0)} ms, median ${durations[Math.floor(durations.length / 2)]!.toFixed(0)})`,
    );
  }
  return lines.join("\n");
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const work = await mkdtemp(join(tmpdir(), "bench-first-view-"));
await mkdir(out, { recursive: true });
console.log(`first-view: hub on 127.0.0.1:${port} (tile service ${port + 1}), data in ${work}\n  ${uptime()}`);
const hub = await startHubProcess({ port, dataDir: join(work, "hub"), demoSlides: true });
const tilesUrl = `http://127.0.0.1:${port + 1}`;
let browser: Browser | undefined;
const samples: Sample[] = [];
try {
  // The demo slides: wait until each one's background job (derived pyramid, thumbnail) is done, so no
  // tiling competes with the rounds; then find the two slides by accession number and block.
  const db = await createDb(readDbEnv({ DATABASE_URL: hub.databaseUrl, DATABASE_PREPARE: "false" }));
  type Row = { id: string; name: string; runs: number; status: string };
  const rowsOf = (result: unknown): Row[] => (Array.isArray(result) ? (result as Row[]) : (result as { rows: Row[] }).rows);
  const readSlides = async () =>
    rowsOf(
      await db.db.execute(
        sql`select s.id, c.accession_number || '/' || s.block as name, s.tiling_runs as runs, s.status from slides s join cases c on c.id = s.case_id`,
      ),
    );
  const preparing = Date.now();
  let slides = await readSlides();
  while (slides.length === 0 || slides.some((s) => s.runs < 1 || s.status !== "ready")) {
    if (slides.some((s) => s.status === "failed")) throw new Error(`a demo slide failed: ${JSON.stringify(slides)}`);
    if (Date.now() - preparing > 30 * 60_000) throw new Error(`demo slides not prepared after 30 min: ${JSON.stringify(slides)}`);
    await new Promise((r) => setTimeout(r, 2000));
    slides = await readSlides();
  }
  await db.close();
  console.log(`demo slides prepared in ${((Date.now() - preparing) / 1000).toFixed(0)} s after the start: ${slides.map((s) => s.name).join(", ")}`);
  const idOf = (name: string) => {
    const slide = slides.find((s) => s.name === name);
    if (!slide) throw new Error(`no demo slide ${name} (there are ${slides.map((s) => s.name).join(", ")})`);
    return slide.id;
  };
  const opened = { cold: values.slide!, same: values.slide!, other: values.other! };
  await hub.stop();

  browser = await chromium.launch(e2eConfig.use?.launchOptions);
  for (let round = 1; round <= rounds; round++) {
    await hub.restart();
    await waitFor(`${tilesUrl}/healthz`, 120);
    const context = await browser.newContext({ baseURL: hub.url });
    const page = await context.newPage();
    await page.addInitScript(() => (performance as unknown as PagePerformance).setResourceTimingBufferSize(2000));
    await signIn(page, values.user!);
    for (const [kind, name] of [
      ["cold", opened.cold],
      ["warm, same slide", opened.same],
      ["warm, other slide", opened.other],
    ] as const) {
      const sample: Sample = { round, kind, slide: name, load1: load1(), ...(await openSlide(page, `/slides/${idOf(name)}`)) };
      samples.push(sample);
      if (round === 1) await page.screenshot({ path: join(out, `${kind.replace(/\W+/g, "-")}.png`) });
      console.log(
        `round ${round} ${kind.padEnd(17)} ${name}: first view ${sample.firstViewMs.toFixed(0)} ms = HTML ${sample.htmlMs.toFixed(0)} + scripts ${sample.scriptMs.toFixed(0)} + token/DZI ${sample.tokenDziMs.toFixed(0)} (token ${sample.tokenMs.toFixed(0)}, DZI ${sample.dziMs.toFixed(0)}) + tiles ${sample.tilesMs.toFixed(0)} (${sample.tiles} tiles, ${sample.colours} colours; load ${sample.load1})`,
      );
      if (round === 1) console.log(formatWaterfall(sample.waterfall));
      if (sample.colours <= 50) console.log(`  WARNING: the canvas has ${sample.colours} colours at first view: no tissue drawn?`);
    }
    await context.close();
    await hub.stop();
  }
} finally {
  await browser?.close();
  await hub.stop();
  if (!values.keep) await rm(work, { recursive: true, force: true });
}

const kinds: Kind[] = ["cold", "warm, same slide", "warm, other slide"];
const fields = ["firstViewMs", "htmlMs", "scriptMs", "tokenDziMs", "tilesMs"] as const;
console.log(`\n${rounds} rounds, ${uptime()}`);
console.log("| | first view median / max ms | HTML | scripts | token + DZI | tiles drawn | tiles | load (1 min) |");
console.log("|---|---:|---:|---:|---:|---:|---:|---|");
const summary = kinds.map((kind) => {
  const of = samples.filter((s) => s.kind === kind);
  const stat = Object.fromEntries(fields.map((f) => [f, { median: median(of.map((s) => s[f])), max: Math.max(...of.map((s) => s[f])) }])) as Record<
    (typeof fields)[number],
    { median: number; max: number }
  >;
  const loads = of.map((s) => Number(s.load1));
  console.log(
    `| ${kind} (${of[0]?.slide}) | **${stat.firstViewMs.median.toFixed(0)}** / ${stat.firstViewMs.max.toFixed(0)} | ${fields
      .slice(1)
      .map((f) => `${stat[f].median.toFixed(0)} / ${stat[f].max.toFixed(0)}`)
      .join(" | ")} | ${median(of.map((s) => s.tiles))} | ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`,
  );
  return { kind, slide: of[0]?.slide, ...stat };
});
await writeFile(join(out, "results.json"), JSON.stringify({ rounds, uptime: uptime(), summary, samples }, null, 2));
console.log(`\nresults and waterfalls: ${join(out, "results.json")}; screenshots of round 1: ${out}/*.png`);
