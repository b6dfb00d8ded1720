import { expect, type Page, test } from "@playwright/test";
import { signIn } from "./sign-in";

/** On a fresh start the workers tile the demo slides; the dashboard refreshes itself meanwhile. */
async function waitForNorthSlides(page: Page) {
  await expect(page.getByRole("link", { name: "Open viewer" })).toHaveCount(3, { timeout: 180_000 });
}

test("a pathologist signs in, finds a slide, and the viewer shows its tiles", async ({ page }) => {
  test.setTimeout(240_000);
  // The hub's Content-Security-Policy must not block anything the pages or the viewer need.
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (load|execute|connect|apply|frame)/i.test(m.text())) violations.push(m.text());
  });
  page.on("pageerror", (e) => violations.push(e.message));
  await signIn(page, "pathologist@north.example");
  await waitForNorthSlides(page);
  await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
  await page.getByLabel("Accession number", { exact: true }).fill("N26-0002");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("row")).toHaveCount(2);
  const tiles: number[] = [];
  page.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push(r.status());
  });
  await page.getByRole("link", { name: "Open viewer" }).click();
  await expect(page.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => tiles.filter((s) => s === 200).length, { timeout: 20_000 }).toBeGreaterThan(3);
  expect(tiles.every((s) => s === 200)).toBe(true);
  await page.waitForTimeout(1500);
  // The canvas shows tissue: its pixels are not all one colour.
  const distinct = await page.getByTestId("viewer").locator("canvas").first().evaluate((canvas: HTMLCanvasElement) => {
    const ctx = canvas.getContext("2d")!;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return seen.size;
  });
  expect(distinct).toBeGreaterThan(50);
  await expect(page.getByLabel(/Scale bar/)).toBeVisible();
  await page.getByRole("button", { name: "100 %" }).click();
  await expect(page.getByTestId("zoom")).toHaveText("100 %");
  await page.screenshot({ path: "test-results/viewer.png" });
  expect(violations).toEqual([]);
});

test("a user of another lab gets not found for the slide, its case and its tiles", async ({ page, browser }) => {
  await signIn(page, "pathologist@north.example");
  await waitForNorthSlides(page);
  await page.getByRole("link", { name: "Open viewer" }).first().click();
  await page.waitForURL(/\/slides\//);
  const slideUrl = new URL(page.url()).pathname;
  const slideId = slideUrl.split("/").pop()!;

  const other = await browser.newContext();
  const south = await other.newPage();
  await signIn(south, "pathologist@south.example");
  const response = await south.goto(slideUrl);
  expect(response?.status()).toBe(404);
  await expect(south.getByRole("heading", { name: "Not found" })).toBeVisible();
  for (const path of ["slide.dzi", "slide_files/0/0_0.jpeg", "thumbnail"]) {
    expect((await south.request.get(`/tiles/${slideId}/${path}`)).status()).toBe(404);
  }
  const dzi = await page.request.get(`/tiles/${slideId}/slide.dzi`);
  expect(dzi.status()).toBe(200);
  expect(dzi.headers()["cache-control"]).toContain("max-age");
  const etag = dzi.headers().etag!;
  expect((await page.request.get(`/tiles/${slideId}/slide.dzi`, { headers: { "if-none-match": etag } })).status()).toBe(304);
  await other.close();
});

test("a wrong password says so plainly", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill("pathologist@north.example");
  await page.getByLabel("Password").fill("wrong");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator("p[role=alert]")).toContainText("do not match");
});

test("the case page shows each slide's thumbnail", async ({ page }) => {
  await signIn(page, "pathologist@north.example");
  await waitForNorthSlides(page);
  await page.getByRole("link", { name: "N26-0001" }).first().click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Case N26-0001");
  const thumbnails = page.getByRole("img", { name: /Thumbnail of/ });
  await expect(thumbnails).toHaveCount(2);
  for (const img of await thumbnails.all()) {
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(100);
  }
  await page.screenshot({ path: "test-results/case.png", fullPage: true });
});
