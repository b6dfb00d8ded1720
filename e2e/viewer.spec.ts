import { expect, type Page, test } from "@playwright/test";
import { signIn } from "./sign-in";

/** The token the viewer gets for a slide (tRPC slides.tileToken), as the page's script asks for it. */
async function tileTokenFor(page: Page, slideId: string): Promise<{ dziUrl: string; token: string; expiresAt: number }> {
  const response = await page.request.post("/api/trpc/slides.tileToken", { data: { id: slideId } });
  expect(response.status()).toBe(200);
  return (await response.json()).result.data;
}

/** On a fresh start the workers tile the demo slides; the dashboard refreshes itself meanwhile. */
async function waitForNorthSlides(page: Page) {
  // The three demo slides (other specs add North slides of their own).
  for (const name of [/N26-0001.*A1/, /N26-0001.*A2/, /N26-0002.*B1/]) {
    await expect(page.getByRole("row", { name }).getByRole("link", { name: "Open viewer" })).toBeVisible({ timeout: 180_000 });
  }
}

test("a pathologist signs in, finds a slide, and the viewer shows its tiles", async ({ page }) => {
  test.setTimeout(420_000);
  // The hub's Content-Security-Policy must not block anything the pages or the viewer need.
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (load|execute|connect|apply|frame)/i.test(m.text())) violations.push(m.text());
  });
  page.on("pageerror", (e) => violations.push(e.message));
  await signIn(page, "pathologist@north.example");
  await waitForNorthSlides(page);
  await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
  // N26-0001's H&E is a pyramid (6 000 × 4 500, three levels): its tiles pass through or come from a stored level.
  await page.getByLabel("Accession number", { exact: true }).fill("N26-0001");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("row")).toHaveCount(3);
  const tiles: number[] = [];
  page.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push(r.status());
  });
  await page.getByRole("row", { name: /A1/ }).getByRole("link", { name: "Open viewer" }).click();
  await expect(page.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => tiles.filter((s) => s === 200).length, { timeout: 60_000 }).toBeGreaterThan(3);
  expect(tiles.every((s) => s === 200)).toBe(true);
  // The canvas shows tissue once the tiles are drawn: its pixels are not all one colour.
  const distinctColours = () =>
    page
      .getByTestId("viewer")
      .locator("canvas")
      .first()
      .evaluate((canvas: HTMLCanvasElement) => {
        const ctx = canvas.getContext("2d")!;
        const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        return seen.size;
      });
  await expect.poll(distinctColours, { timeout: 30_000 }).toBeGreaterThan(50);
  await expect(page.getByLabel(/Scale bar/)).toBeVisible();
  await page.getByRole("button", { name: "100 %" }).click();
  await expect(page.getByTestId("zoom")).toHaveText("100 %");
  await page.screenshot({ path: "test-results/viewer.png" });
  expect(violations).toEqual([]);
});

test("a user of another lab gets not found for the slide, its case and its tiles", async ({ page, browser }) => {
  await signIn(page, "pathologist@north.example");
  await waitForNorthSlides(page);
  // N26-0002: no other spec shares it with South (N26-0001 goes to a consult and a board).
  await page.getByLabel("Accession number", { exact: true }).fill("N26-0002");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("row", { name: /B1/ }).getByRole("link", { name: "Open viewer" }).click();
  await page.waitForURL(/\/slides\//);
  const slideUrl = new URL(page.url()).pathname;
  const slideId = slideUrl.split("/").pop()!;

  const other = await browser.newContext();
  const south = await other.newPage();
  await signIn(south, "pathologist@south.example");
  const response = await south.goto(slideUrl);
  expect(response?.status()).toBe(404);
  await expect(south.getByRole("heading", { name: "Not found" })).toBeVisible();
  // No tile token for them, and no thumbnail.
  expect((await south.request.post("/api/trpc/slides.tileToken", { data: { id: slideId } })).status()).toBe(404);
  expect((await south.request.get(`/slides/${slideId}/thumbnail`)).status()).toBe(404);
  const { dziUrl, token } = await tileTokenFor(page, slideId);
  const dzi = await page.request.get(`${dziUrl}?t=${token}`);
  expect(dzi.status()).toBe(200);
  expect(dzi.headers()["cache-control"]).toContain("immutable");
  const etag = dzi.headers().etag!;
  expect((await page.request.get(`${dziUrl}?t=${token}`, { headers: { "if-none-match": etag } })).status()).toBe(304);
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

test("tiles come from the tile service with a token: none is 401, a forged or another slide's token is 404", async ({ page }) => {
  await signIn(page, "pathologist@north.example");
  await waitForNorthSlides(page);
  const tiles: { url: string; status: number }[] = [];
  page.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) tiles.push({ url: r.url(), status: r.status() });
  });
  await page.getByLabel("Accession number", { exact: true }).fill("N26-0001");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("row", { name: /A1/ }).getByRole("link", { name: "Open viewer" }).click();
  await page.waitForURL(/\/slides\//);
  const slideId = new URL(page.url()).pathname.split("/").pop()!;
  await expect.poll(() => tiles.filter((t) => t.status === 200).length, { timeout: 60_000 }).toBeGreaterThan(3);
  const hubOrigin = new URL(page.url()).origin;
  const tile = new URL(tiles[0]!.url);
  expect(tile.origin).not.toBe(hubOrigin); // the tile service, not the web app
  expect(tile.searchParams.get("t")).toBeTruthy();
  const bare = `${tile.origin}${tile.pathname}`;
  expect((await page.request.get(bare)).status()).toBe(401);
  const token = tile.searchParams.get("t")!;
  const forged = token.slice(0, -4) + (token.endsWith("0000") ? "1111" : "0000");
  const refused = await page.request.get(`${bare}?t=${forged}`);
  expect(refused.status()).toBe(404);
  expect(await refused.text()).toBe("Not found.\n");
  const good = await page.request.get(`${bare}?t=${token}`, { headers: { origin: hubOrigin } });
  expect(good.status()).toBe(200);
  expect(good.headers()["access-control-allow-origin"]).toBe(hubOrigin);
  // Another slide's address with this slide's token.
  const elsewhere = bare.replace(slideId, "00000000-0000-4000-8000-000000000000");
  expect((await page.request.get(`${elsewhere}?t=${token}`)).status()).toBe(404);
});
