import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { tissuePixel, writeTestTiff } from "@pathx/wsi/test-support";
import { signIn } from "./sign-in";

test("upload survives a dropped connection and a page reload, then the slide is tiled and viewable", async ({ page }) => {
  test.setTimeout(240_000);
  // About 17 MB uncompressed: three 8 MiB chunks.
  const path = join(tmpdir(), `e2e-upload-${Date.now()}.tif`);
  await writeFile(path, writeTestTiff([{ width: 2400, height: 2400, tileSize: 256, compression: "none", pixel: tissuePixel, pixelsPerCm: 40_000 }]).bytes);

  await signIn(page, "pathologist@south.example");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Slides of South University Hospital");

  // The network drops every attempt at the last chunk: the upload stops with a clear message.
  await page.route("**/api/uploads/*/chunks/2", (route) => route.abort("connectionreset"));
  await page.getByLabel("Case accession number").fill("S26-9000");
  await page.getByLabel("Block").fill("B2");
  await page.getByLabel("Slide file").setInputFiles(path);
  await expect(page.locator("p[role=alert]")).toContainText("drop or choose the same file again to resume", { timeout: 60_000 });

  // After a reload the same file resumes: only the missing chunk is sent.
  await page.unroute("**/api/uploads/*/chunks/2");
  await page.reload();
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "PUT" && r.url().includes("/chunks/")) sent.push(r.url().split("/chunks/")[1]!);
  });
  await page.getByLabel("Case accession number").fill("S26-9000");
  await page.getByLabel("Block").fill("B2");
  await page.getByLabel("Slide file").setInputFiles(path);
  await expect(page.getByRole("status")).toContainText("uploaded; it is being tiled", { timeout: 60_000 });
  expect(sent).toEqual(["2"]);

  // The worker tiles it; the dashboard updates by itself.
  const row = page.getByRole("row", { name: /S26-9000/ });
  await expect(row.getByText("ready")).toBeVisible({ timeout: 120_000 });
  await page.screenshot({ path: "test-results/after-upload.png", fullPage: true });
  await row.getByRole("link", { name: "Open viewer" }).click();
  await expect(page.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect(page.getByText("2,400 × 2,400 px")).toBeVisible();

  // The same file again is recognised.
  await page.goto("/");
  await page.getByLabel("Case accession number").fill("S26-9000");
  await page.getByLabel("Slide file").setInputFiles(path);
  await expect(page.getByRole("status")).toContainText("already in the lab's slides");
});

test("a slide whose header reads but whose tiles are damaged fails tiling, and the dashboard says why", async ({ page }) => {
  test.setTimeout(120_000);
  const path = join(tmpdir(), `e2e-damaged-${Date.now()}.tif`);
  const bytes = Buffer.from(writeTestTiff([{ width: 2400, height: 2400, tileSize: 256, pixel: tissuePixel, pixelsPerCm: 40_000 }]).bytes);
  // Past the first 64 KiB the hub reads before accepting: the JPEG tiles turn to noise.
  for (let i = 70_000; i < bytes.length - 4096; i += 7) bytes[i] = (i * 31) & 0xff;
  await writeFile(path, bytes);
  await signIn(page, "pathologist@south.example");
  await page.getByLabel("Case accession number").fill("S26-9001");
  await page.getByLabel("Slide file").setInputFiles(path);
  await expect(page.getByRole("status")).toContainText("uploaded; it is being tiled", { timeout: 30_000 });
  const row = page.getByRole("row", { name: /S26-9001/ });
  await expect(row.getByText("failed")).toBeVisible({ timeout: 90_000 });
  await row.getByRole("link", { name: "Details" }).click();
  await expect(page.locator("p[role=alert]")).toContainText("This slide could not be tiled");
});
