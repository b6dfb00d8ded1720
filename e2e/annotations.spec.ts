import { readFile } from "node:fs/promises";
import { expect, type Page, test } from "@playwright/test";
import { signIn } from "./sign-in";

interface Exported {
  type: string;
  pathx: { slideId: string; mppX: number; mppY: number; coordinateSystem: string };
  features: {
    id: string;
    geometry: { type: string; coordinates: number[][] | number[][][] };
    properties: { kind: string; label: string; lengthUm: number | null; areaUm2: number | null; author: string };
  }[];
}

/** Parses "912 µm", "1.23 mm", "0.031 mm²", "8,400 µm²" to µm or µm², with the half-step the display rounded to. */
function shown(text: string): { value: number; tolerance: number } {
  const match = /([\d,]+(?:\.(\d+))?) (µm²|mm²|µm|mm)/.exec(text);
  if (!match) throw new Error(`no measurement in ${JSON.stringify(text)}`);
  const factor = { µm: 1, mm: 1000, "µm²": 1, "mm²": 1e6 }[match[3] as "µm" | "mm" | "µm²" | "mm²"];
  return { value: Number(match[1]!.replaceAll(",", "")) * factor, tolerance: 0.5 * 10 ** -(match[2]?.length ?? 0) * factor };
}

async function openSlideN260001A1(page: Page) {
  await signIn(page, "pathologist@north.example");
  const row = page.getByRole("row").filter({ hasText: "N26-0001" }).filter({ hasText: "A1" });
  await expect(row.getByRole("link", { name: "Open viewer" })).toBeVisible({ timeout: 180_000 });
  await row.getByRole("link", { name: "Open viewer" }).click();
  await expect(page.getByTestId("annotation-overlay")).toBeAttached({ timeout: 30_000 });
}

test("a pathologist measures a line and a rectangle, finds them after a reload, and exports the same numbers", async ({ page, browser }) => {
  test.setTimeout(300_000);
  await openSlideN260001A1(page);
  const slideId = new URL(page.url()).pathname.split("/").pop()!;
  const items = page.getByTestId("annotation-item");
  await expect(items).toHaveCount(0);
  // The view is still once its zoom readout stops changing (the opening animation has ended).
  const zoomText = async () => (await page.getByTestId("zoom").textContent()) ?? "";
  let previous = "";
  await expect
    .poll(
      async () => {
        const now = await zoomText();
        const still = now !== "" && now === previous;
        previous = now;
        return still;
      },
      { intervals: [300], timeout: 30_000 },
    )
    .toBe(true);
  const zoom = Number((await zoomText()).replace(/\D/g, "")) / 100;
  const box = (await page.getByTestId("viewer").boundingBox())!;
  const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];

  // A 300-pixel line on screen, finished by double-clicking its last point.
  await page.getByRole("button", { name: "Line", exact: true }).click();
  await page.mouse.click(cx - 150, cy - 100);
  await page.mouse.dblclick(cx + 150, cy - 100);
  await expect(items).toHaveCount(1);
  await expect(items.first()).toContainText(/\d µm|\d mm/);
  // 300 screen pixels at the shown zoom, at 0.5 µm per pixel (the zoom is rounded to a percent).
  const lineShown = shown((await items.first().textContent())!);
  expect(Math.abs(lineShown.value - (300 / zoom) * 0.5) / lineShown.value).toBeLessThan(0.05);

  // A rectangle by dragging.
  await page.getByRole("button", { name: "Rectangle", exact: true }).click();
  await page.mouse.move(cx - 120, cy + 20);
  await page.mouse.down();
  await page.mouse.move(cx, cy + 100, { steps: 4 });
  await page.mouse.move(cx + 100, cy + 160, { steps: 4 });
  await page.mouse.up();
  await expect(items).toHaveCount(2);
  await expect(items.nth(1)).toContainText(/(µm²|mm²)/);

  // A polygon finished with Enter, then deleted; Esc drops a half-drawn one.
  await page.getByRole("button", { name: "Polygon", exact: true }).click();
  for (const [dx, dy] of [
    [-300, 150],
    [-220, 150],
    [-260, 220],
  ])
    await page.mouse.click(cx + dx!, cy + dy!);
  await page.keyboard.press("Enter");
  await expect(items).toHaveCount(3);
  await items
    .nth(2)
    .getByRole("button", { name: /Delete Polygon/ })
    .click();
  await expect(items).toHaveCount(2);
  await page.getByRole("button", { name: "Polygon", exact: true }).click();
  await page.mouse.click(cx - 300, cy + 150);
  await page.mouse.click(cx - 220, cy + 150);
  await expect(page.getByRole("button", { name: "Finish polygon" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("button", { name: "Finish polygon" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Polygon", exact: true })).toHaveAttribute("aria-pressed", "false");
  await expect(items).toHaveCount(2);

  // The labels on the slide show the same measurements as the list.
  const lineText = (await items.nth(0).locator("strong").textContent())!;
  const areaText = (await items.nth(1).locator("strong").textContent())!;
  const onSlide = page.getByTestId("annotation-overlay").locator("text");
  await expect(onSlide).toHaveText([lineText, areaText]);
  await page.screenshot({ path: "test-results/annotations.png" });

  await page.reload();
  await expect(page.getByTestId("annotation-overlay")).toBeAttached({ timeout: 30_000 });
  await expect(items).toHaveCount(2);
  await expect(page.getByTestId("annotation-overlay").locator("text")).toHaveText([lineText, areaText]);
  await page.getByRole("button", { name: "Rotate right" }).click();
  await page.waitForTimeout(800); // only for the picture: the rotation animation ends before it is taken
  await page.screenshot({ path: "test-results/annotations-rotated.png" });

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export GeoJSON" }).click()]);
  expect(download.suggestedFilename()).toBe(`slide-${slideId}-annotations.geojson`);
  const exported = JSON.parse(await readFile((await download.path())!, "utf8")) as Exported;
  expect(exported.type).toBe("FeatureCollection");
  expect(exported.pathx).toEqual({ slideId, mppX: 0.5, mppY: 0.5, coordinateSystem: "level-0 pixels, origin top-left, y down" });
  const [line, rectangle] = exported.features;
  expect(line!.properties).toMatchObject({ kind: "line", author: expect.any(String) });
  expect(rectangle!.properties).toMatchObject({ kind: "rectangle", lengthUm: null });
  // The exported numbers are the ones shown, and follow from the exported geometry.
  const lineCoordinates = line!.geometry.coordinates as number[][];
  // Drawn level on an unrotated view: the viewer did not move under the pointer between the clicks.
  expect(Math.abs(lineCoordinates[1]![1]! - lineCoordinates[0]![1]!)).toBeLessThan(1);
  expect(line!.properties.lengthUm).toBeCloseTo(
    Math.hypot(lineCoordinates[1]![0]! - lineCoordinates[0]![0]!, lineCoordinates[1]![1]! - lineCoordinates[0]![1]!) * 0.5,
    6,
  );
  expect(Math.abs(line!.properties.lengthUm! - shown(lineText).value)).toBeLessThanOrEqual(shown(lineText).tolerance);
  const ring = (rectangle!.geometry.coordinates as number[][][])[0]!;
  expect(ring).toHaveLength(5);
  expect(rectangle!.properties.areaUm2).toBeCloseTo((ring[2]![0]! - ring[0]![0]!) * (ring[2]![1]! - ring[0]![1]!) * 0.25, 4);
  expect(Math.abs(rectangle!.properties.areaUm2! - shown(areaText).value)).toBeLessThanOrEqual(shown(areaText).tolerance);

  // The export is authorised like the slide: not signed in 401, another lab 404.
  const anonymous = await browser.newContext({ baseURL: new URL(page.url()).origin });
  expect((await anonymous.request.get(`/slides/${slideId}/annotations.geojson`)).status()).toBe(401);
  await anonymous.close();
  const other = await browser.newContext();
  const south = await other.newPage();
  await signIn(south, "pathologist@south.example");
  expect((await south.request.get(`/slides/${slideId}/annotations.geojson`)).status()).toBe(404);
  await other.close();
});
