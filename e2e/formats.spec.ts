import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type Page, expect, test } from "@playwright/test";
import { writeMrxs, writeNdpi, writeVms } from "@pathx/wsi/test-support";
import { runPathx } from "@pathx/node/test-support";
import { signIn } from "./sign-in";

/** A fresh work folder holding the node's configuration. */
async function makeNodeWork(prefix: string) {
  const work = await mkdtemp(join(tmpdir(), prefix));
  return { work, env: { PATHX_NODE_CONFIG: join(work, "node.json"), PATHX_PSEUDONYM_KEY: "labs-shared-key-for-tests" } };
}

/** East's admin enrols a node, which publishes the slide: the new slide's id. */
async function publishThroughNode(page: Page, baseURL: string, env: Record<string, string>, nodeName: string, publishArgs: string[]) {
  await signIn(page, "admin@east.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  const enrolled = await runPathx(["node", "enroll", "--hub", baseURL, "--token", token, "--name", nodeName], env);
  expect(enrolled.stderr).toBe("");
  const published = await runPathx(["node", "publish", ...publishArgs], env);
  expect(published.stderr).toBe("");
  const slideId = /published slide ([0-9a-f-]{36})/.exec(published.stdout)?.[1];
  expect(slideId).toBeTruthy();
  return slideId!;
}

/**
 * East's pathologist waits until the case's slide is ready (the worker has made it viewable; for
 * OpenSlide-only formats, rewritten it for serving), finds it the given size, opens the viewer and
 * sees its tiles served.
 */
async function viewPublishedSlide(browser: Browser, caseId: string, slideId: string, size: { width: number; height: number }, screenshot: string) {
  const viewer = await browser.newPage();
  await signIn(viewer, "pathologist@east.example");
  const row = viewer.getByRole("row", { name: new RegExp(caseId) });
  await expect(row.getByText("Open viewer")).toBeVisible({ timeout: 180_000 });
  const info = await viewer.request.get(`/api/trpc/slides.get?input=${encodeURIComponent(JSON.stringify({ id: slideId }))}`);
  expect(((await info.json()) as { result: { data: { width: number; height: number } } }).result.data).toMatchObject(size);
  const tiles: number[] = [];
  viewer.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push(r.status());
  });
  await row.getByRole("link", { name: "Open viewer" }).click();
  await expect(viewer.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => tiles.filter((s) => s === 200).length, { timeout: 30_000 }).toBeGreaterThan(3);
  expect(tiles.every((s) => s === 200)).toBe(true);
  await viewer.screenshot({ path: `test-results/${screenshot}` });
}

test("a lab node publishes a Hamamatsu NDPI and the viewer shows its tiles", async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  const { work, env } = await makeNodeWork("e2e-ndpi-");
  const slide = join(work, "E26-0200-A1.ndpi");
  await writeNdpi(slide, {
    levels: [
      { width: 4096, height: 2048, restartInterval: 32 },
      { width: 2048, height: 1024, restartInterval: 16 },
      { width: 1024, height: 512, restartInterval: 0 },
    ],
    macro: { width: 600, height: 200 },
  });
  const slideId = await publishThroughNode(page, baseURL!, env, "east-ndpi-node", [
    slide,
    "--case",
    "E26-0200",
    "--block",
    "A1",
    "--stain",
    "H&E",
    "--patient",
    "19700101-0000",
  ]);
  await viewPublishedSlide(browser, "E26-0200", slideId, { width: 4096, height: 2048 }, "ndpi-viewer.png");
});

test("a lab node publishes a 3DHISTECH MRXS slide (the .mrxs file and its folder) and the viewer shows its tiles", async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  const { work, env } = await makeNodeWork("e2e-mrxs-");
  const slide = await writeMrxs(work, "E26-0210-A1", { imagesX: 8, imagesY: 6, levels: 3 });
  const slideId = await publishThroughNode(page, baseURL!, env, "east-mrxs-node", [slide.path, "--case", "E26-0210", "--block", "A1", "--stain", "H&E"]);
  await viewPublishedSlide(browser, "E26-0210", slideId, { width: 2048, height: 1536 }, "mrxs-viewer.png");
});

test("a lab node publishes a Hamamatsu VMS slide (the .vms file and its JPEGs) and the viewer shows its tiles", async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  const { work, env } = await makeNodeWork("e2e-vms-");
  await mkdir(join(work, "slide"));
  const slide = await writeVms(join(work, "slide"), { name: "E26-0220-A1", columns: 4, rows: 3, imageWidth: 512, imageHeight: 512 });
  const slideId = await publishThroughNode(page, baseURL!, env, "east-vms-node", [slide.path, "--case", "E26-0220", "--block", "A1", "--stain", "H&E"]);
  await viewPublishedSlide(browser, "E26-0220", slideId, { width: 2048, height: 1536 }, "vms-viewer.png");
});
