import { spawn } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { pyramidImages, tissuePixel, writeTestTiff } from "@pathx/wsi/test-support";
import { fixturePath } from "@pathx/wsi/test-support";
import { pathxBin as pathx, runPathx } from "@pathx/node/test-support";
import { startChunkRelay } from "./chunk-relay";
import { signIn } from "./sign-in";

test("a lab admin enrols a node, the node publishes a slide with a pseudonymised patient, then is revoked", async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-node-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json"), PATHX_PSEUDONYM_KEY: "labs-shared-key-for-tests" };
  const slide = join(work, "E26-0100-A1.tif");
  await writeFile(slide, writeTestTiff([{ width: 1500, height: 1200, tileSize: 256, pixel: tissuePixel, pixelsPerCm: 40_000 }]).bytes);

  await signIn(page, "admin@east.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  expect(token).toMatch(/^pxe_/);

  const enrolled = await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token, "--name", "east-node-1"], env);
  expect(enrolled.stderr).toBe("");
  expect(enrolled.stdout).toContain("enrolled as a node of East Regional Lab");
  // The token works once.
  const again = await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token], { ...env, PATHX_NODE_CONFIG: join(work, "other.json") });
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("unknown, used or expired");

  const published = await runPathx(["node", "publish", slide, "--case", "E26-0100", "--block", "A1", "--stain", "H&E", "--patient", "19850101-1234"], env);
  expect(published.stderr).toBe("");
  expect(published.stdout).toMatch(/published slide [0-9a-f-]{36} \(1 chunk\(s\) sent\)/);
  const twice = await runPathx(["node", "publish", slide, "--case", "E26-0100"], env);
  expect(twice.stdout).toContain("already published");

  // A real Aperio slide: the lab's policy (default) keeps label and macro in the lab.
  const aperio = await runPathx(["node", "publish", fixturePath("CMU-1-Small-Region.svs"), "--case", "E26-0101", "--block", "A1"], env);
  const aperioId = /published slide ([0-9a-f-]{36})/.exec(aperio.stdout)?.[1];
  expect(aperioId, aperio.stderr).toBeTruthy();
  await page.goto("/");
  await expect(page.getByRole("row", { name: /E26-0101/ }).getByText("ready")).toBeVisible({ timeout: 90_000 });
  const info = await page.request.get(`/api/trpc/slides.get?input=${encodeURIComponent(JSON.stringify({ id: aperioId }))}`);
  const slideInfo = ((await info.json()) as { result: { data: { hasLabel: boolean; hasMacro: boolean; width: number } } }).result.data;
  expect(slideInfo).toMatchObject({ hasLabel: false, hasMacro: false, width: 2220 });

  // A watched folder: a slide with its sidecar is published; one without waits for it.
  const inbox = join(work, "inbox");
  await mkdir(inbox);
  await writeFile(join(inbox, "E26-0102-B1.tif"), writeTestTiff([{ width: 900, height: 700, tileSize: 256, pixel: (x, y) => tissuePixel(y, x) }]).bytes);
  await writeFile(join(inbox, "E26-0102-B1.json"), JSON.stringify({ case: "E26-0102", block: "B1", stain: "PAS", patient: "19850101-1234" }));
  await writeFile(join(inbox, "E26-0103-C1.tif"), writeTestTiff([{ width: 300, height: 300, tileSize: 256, pixel: tissuePixel }]).bytes);
  const watched = await runPathx(["node", "watch", inbox, "--once", "--interval", "1"], env);
  expect(watched.stdout).toMatch(/E26-0102-B1\.tif: published as slide/);
  expect(watched.stdout).toContain("E26-0103-C1.tif: waiting for its sidecar");

  await page.goto("/");
  await expect(page.getByRole("row", { name: /E26-0102/ })).toContainText("PAS");
  const row = page.getByRole("row", { name: /E26-0100/ });
  await expect(row.getByText("ready")).toBeVisible({ timeout: 90_000 });

  await page.goto("/admin");
  const nodeRow = page.getByRole("row", { name: /east-node-1/ });
  await expect(nodeRow).toContainText("0.1.0");
  await expect(nodeRow).toContainText("3 slides"); // E26-0100 and E26-0101 by publish, E26-0102 by watch
  await expect(nodeRow.getByRole("cell").nth(4)).toHaveText("1"); // E26-0103 waits for its sidecar
  await page
    .getByRole("row", { name: /east-node-1/ })
    .getByRole("button", { name: "Revoke" })
    .click();
  await expect(page.getByRole("row", { name: /east-node-1/ })).toContainText("revoked");
  await page.screenshot({ path: "test-results/admin-nodes.png", fullPage: true });
  const refused = await runPathx(["node", "publish", slide, "--case", "E26-0101"], env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("not enrolled, or it was revoked");
});

test("a node killed (kill -9) mid-upload resumes from the chunks the hub already has; --max-rate caps bandwidth", async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-node-kill-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json") };
  // About 42 MB uncompressed: six 8 MiB chunks.
  const slide = join(work, "S26-7000-A1.tif");
  await writeFile(slide, writeTestTiff([{ width: 3800, height: 3800, tileSize: 256, compression: "none", pixel: tissuePixel }]).bytes);

  await signIn(page, "admin@south.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  // 8 MB/s: about a second per chunk. The node talks to the hub through a relay that counts the
  // chunks the hub confirmed and holds the third, so the kill lands mid-upload.
  const relay = await startChunkRelay(baseURL!, 2);
  try {
    expect((await runPathx(["node", "enroll", "--hub", relay.url, "--token", token, "--name", "south-node"], env)).code).toBe(0);
    const started = Date.now();
    const child = spawn(process.execPath, [pathx, "node", "publish", slide, "--case", "S26-7000", "--max-rate", "8"], { env: { ...process.env, ...env } });
    await relay.limitReached;
    // Two 8 MiB chunks at 8 MB/s cannot have taken less than about two seconds.
    expect(Date.now() - started).toBeGreaterThan(1900);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    relay.release();

    const resumed = await runPathx(["node", "publish", slide, "--case", "S26-7000"], env);
    expect(resumed.stderr).toBe("");
    const sent = Number(/\((\d+) chunk\(s\) sent\)/.exec(resumed.stdout)?.[1]);
    expect(sent).toBe(4); // the two chunks stored before the kill were not sent again
  } finally {
    relay.close();
  }
  await page.goto("/");
  await expect(page.getByRole("row", { name: /S26-7000/ }).getByText("ready")).toBeVisible({ timeout: 90_000 });
});

test("an index-only slide shows as at the lab; opening it fetches it from the node and then shows the slide", async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-node-index-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json") };
  const slide = join(work, "E26-8800-A1.tif");
  await writeFile(slide, writeTestTiff(pyramidImages(3000, 2200, 256, 3, { pixelsPerCm: 40_000 })).bytes);

  await signIn(page, "admin@east.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  expect((await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token, "--name", "east-archive"], env)).code).toBe(0);
  const registered = await runPathx(["node", "publish", slide, "--case", "E26-8800", "--block", "A1", "--stain", "H&E", "--index-only"], env);
  expect(registered.stdout).toContain("registered");

  // The lab admin sees what this node published.
  await page.goto("/admin");
  await page
    .getByRole("row", { name: /east-archive/ })
    .getByRole("link", { name: "1 slide" })
    .click();
  await expect(page.getByText("Showing the slides one lab node published")).toBeVisible();
  await expect(page.getByRole("row", { name: /E26-8800/ })).toBeVisible();

  await page.goto("/?q=E26-8800");
  const row = page.getByRole("row", { name: /E26-8800/ });
  await expect(row.getByText("at the lab")).toBeVisible();
  await page.goto(
    `/cases/${await row
      .getByRole("link", { name: "E26-8800" })
      .getAttribute("href")
      .then((h) => h!.split("/").pop())}`,
  );
  // The thumbnail came with the index record; the pixels have not left the lab.
  await expect(page.getByRole("img", { name: /Thumbnail of A1/ })).toBeVisible();
  await page.getByRole("link", { name: /Slide A1/ }).click();
  await expect(page.getByRole("status")).toContainText("Fetching from East Regional Lab … waiting for the lab's node");
  await page.screenshot({ path: "test-results/index-only-fetching.png" });

  const serve = spawn(process.execPath, [pathx, "node", "serve"], { env: { ...process.env, ...env } });
  try {
    // The page follows by itself: fetched, tiled, then the viewer.
    await expect(page.getByTestId("viewer").locator("canvas").first()).toBeVisible({ timeout: 90_000 });
    await page.screenshot({ path: "test-results/index-only-fetched.png" });
  } finally {
    serve.kill("SIGTERM");
  }
});
