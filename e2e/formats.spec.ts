import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { writeMrxs, writeNdpi, writeVms } from "@pathx/wsi/test-support";
import { runPathx } from "@pathx/node/test-support";
import { signIn } from "./sign-in";

test("a lab node publishes a Hamamatsu NDPI and the viewer shows its tiles", async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-ndpi-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json"), PATHX_PSEUDONYM_KEY: "labs-shared-key-for-tests" };
  const slide = join(work, "E26-0200-A1.ndpi");
  await writeNdpi(slide, {
    levels: [
      { width: 4096, height: 2048, restartInterval: 32 },
      { width: 2048, height: 1024, restartInterval: 16 },
      { width: 1024, height: 512, restartInterval: 0 },
    ],
    macro: { width: 600, height: 200 },
  });

  await signIn(page, "admin@east.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  const enrolled = await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token, "--name", "east-ndpi-node"], env);
  expect(enrolled.stderr).toBe("");
  const published = await runPathx(["node", "publish", slide, "--case", "E26-0200", "--block", "A1", "--stain", "H&E", "--patient", "19700101-0000"], env);
  expect(published.stderr).toBe("");
  const slideId = /published slide ([0-9a-f-]{36})/.exec(published.stdout)?.[1];
  expect(slideId).toBeTruthy();

  const viewer = await browser.newPage();
  await signIn(viewer, "pathologist@east.example");
  await expect(viewer.getByRole("row", { name: /E26-0200/ }).getByText("Open viewer")).toBeVisible({ timeout: 180_000 });
  const info = await viewer.request.get(`/api/trpc/slides.get?input=${encodeURIComponent(JSON.stringify({ id: slideId }))}`);
  expect(((await info.json()) as { result: { data: { width: number; height: number } } }).result.data).toMatchObject({ width: 4096, height: 2048 });
  const tiles: number[] = [];
  viewer.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push(r.status());
  });
  await viewer
    .getByRole("row", { name: /E26-0200/ })
    .getByRole("link", { name: "Open viewer" })
    .click();
  await expect(viewer.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => tiles.filter((s) => s === 200).length, { timeout: 30_000 }).toBeGreaterThan(3);
  expect(tiles.every((s) => s === 200)).toBe(true);
  await viewer.screenshot({ path: "test-results/ndpi-viewer.png" });
});

test("a lab node publishes a 3DHISTECH MRXS slide (the .mrxs file and its folder) and the viewer shows its tiles", async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-mrxs-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json"), PATHX_PSEUDONYM_KEY: "labs-shared-key-for-tests" };
  const slide = await writeMrxs(work, "E26-0210-A1", { imagesX: 8, imagesY: 6, levels: 3 });

  await signIn(page, "admin@east.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  const enrolled = await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token, "--name", "east-mrxs-node"], env);
  expect(enrolled.stderr).toBe("");
  const published = await runPathx(["node", "publish", slide.path, "--case", "E26-0210", "--block", "A1", "--stain", "H&E"], env);
  expect(published.stderr).toBe("");
  const slideId = /published slide ([0-9a-f-]{36})/.exec(published.stdout)?.[1];
  expect(slideId).toBeTruthy();

  const viewer = await browser.newPage();
  await signIn(viewer, "pathologist@east.example");
  // Ready once the worker has rewritten it for serving (OpenSlide reads it from the unpacked archive).
  await expect(viewer.getByRole("row", { name: /E26-0210/ }).getByText("Open viewer")).toBeVisible({ timeout: 180_000 });
  const info = await viewer.request.get(`/api/trpc/slides.get?input=${encodeURIComponent(JSON.stringify({ id: slideId }))}`);
  expect(((await info.json()) as { result: { data: { width: number; height: number; vendor: string } } }).result.data).toMatchObject({
    width: 2048,
    height: 1536,
  });
  const tiles: number[] = [];
  viewer.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push(r.status());
  });
  await viewer
    .getByRole("row", { name: /E26-0210/ })
    .getByRole("link", { name: "Open viewer" })
    .click();
  await expect(viewer.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => tiles.filter((s) => s === 200).length, { timeout: 30_000 }).toBeGreaterThan(3);
  expect(tiles.every((s) => s === 200)).toBe(true);
  await viewer.screenshot({ path: "test-results/mrxs-viewer.png" });
});

test("a lab node publishes a Hamamatsu VMS slide (the .vms file and its JPEGs) and the viewer shows its tiles", async ({ page, browser, baseURL }) => {
  test.setTimeout(300_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-vms-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json"), PATHX_PSEUDONYM_KEY: "labs-shared-key-for-tests" };
  const slide = await writeVms(work, { name: "E26-0220-A1", columns: 4, rows: 3, imageWidth: 512, imageHeight: 512 });

  await signIn(page, "admin@east.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  const enrolled = await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token, "--name", "east-vms-node"], env);
  expect(enrolled.stderr).toBe("");
  const published = await runPathx(["node", "publish", slide.path, "--case", "E26-0220", "--block", "A1", "--stain", "H&E"], env);
  expect(published.stderr).toBe("");
  const slideId = /published slide ([0-9a-f-]{36})/.exec(published.stdout)?.[1];
  expect(slideId).toBeTruthy();

  const viewer = await browser.newPage();
  await signIn(viewer, "pathologist@east.example");
  // Ready once the worker has rewritten it for serving (OpenSlide reads it from the unpacked archive).
  await expect(viewer.getByRole("row", { name: /E26-0220/ }).getByText("Open viewer")).toBeVisible({ timeout: 180_000 });
  const info = await viewer.request.get(`/api/trpc/slides.get?input=${encodeURIComponent(JSON.stringify({ id: slideId }))}`);
  expect(((await info.json()) as { result: { data: { width: number; height: number; vendor: string } } }).result.data).toMatchObject({
    width: 2048,
    height: 1536,
  });
  const tiles: number[] = [];
  viewer.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push(r.status());
  });
  await viewer
    .getByRole("row", { name: /E26-0220/ })
    .getByRole("link", { name: "Open viewer" })
    .click();
  await expect(viewer.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => tiles.filter((s) => s === 200).length, { timeout: 30_000 }).toBeGreaterThan(3);
  expect(tiles.every((s) => s === 200)).toBe(true);
  await viewer.screenshot({ path: "test-results/vms-viewer.png" });
});
