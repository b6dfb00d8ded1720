import { writeFile } from "node:fs/promises";
import { type Page, expect, test } from "@playwright/test";
import { signIn } from "./sign-in";

type View = { slideId: string; centre: [number, number]; zoom: number; rotation: number };

/** The view the page's viewer shows, as the live panel exposes it (data-view). */
async function viewOf(page: Page): Promise<View | null> {
  const json = await page.getByTestId("board-live").getAttribute("data-view");
  return json ? (JSON.parse(json) as View) : null;
}

/** Same slide, centre within a pixel, same zoom and rotation. */
function same(a: View | null, b: View | null): boolean {
  return Boolean(
    a &&
      b &&
      a.slideId === b.slideId &&
      Math.abs(a.centre[0] - b.centre[0]) < 1 &&
      Math.abs(a.centre[1] - b.centre[1]) < 1 &&
      Math.abs(a.zoom / b.zoom - 1) < 1e-3 &&
      a.rotation === b.rotation,
  );
}

async function expectFollows(follower: Page, presenter: Page) {
  await expect.poll(async () => same(await viewOf(follower), await viewOf(presenter)), { timeout: 10_000 }).toBe(true);
}

/** Drags the viewer's canvas by (dx, dy) screen pixels. */
async function drag(page: Page, dx: number, dy: number) {
  const box = (await page.getByTestId("viewer").boundingBox())!;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx / 2, y + dy / 2, { steps: 5 });
  await page.mouse.move(x + dx, y + dy, { steps: 5 });
  await page.mouse.up();
}

async function distinctColours(page: Page): Promise<number> {
  return page
    .getByTestId("viewer")
    .locator("canvas")
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      return seen.size;
    });
}

test("a tumor board across two labs: agenda, live view mirrored to a follower, break away and rejoin, hand-over, conclusion, minutes", async ({ browser }) => {
  test.setTimeout(300_000);
  const viewport = { width: 1400, height: 900 };
  const northContext = await browser.newContext({ viewport });
  const north = await northContext.newPage();
  await signIn(north, "pathologist@north.example");
  // The demo slides are tiled on first start; N26-0001's two slides come first.
  await north.getByLabel("Accession number", { exact: true }).fill("N26-0001");
  await north.getByRole("button", { name: "Search" }).click();
  await expect(north.getByRole("link", { name: "Open viewer" })).toHaveCount(2, { timeout: 180_000 });

  // North creates the board, adds South's pathologist, schedules a session, puts N26-0001 on it.
  await north.getByRole("link", { name: "Boards" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toHaveText("Tumor boards");
  await north.getByLabel("Name").fill("Regional sarcoma panel");
  await north.getByRole("button", { name: "Create board" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toHaveText("Regional sarcoma panel");
  await north.getByLabel("Add a member by email").fill("nobody@nowhere.example");
  await north.getByRole("button", { name: "Add member" }).click();
  // The same answer whether or not the address is a user's: the form does not tell who has an account.
  await expect(north.getByRole("status")).toContainText(
    "If nobody@nowhere.example signs in to the hub as a member of a lab, they are now a member of this board.",
  );
  await expect(north.getByRole("row", { name: /nobody@nowhere\.example/ })).toHaveCount(0);
  await north.getByLabel("Add a member by email").fill("pathologist@south.example");
  await north.getByRole("button", { name: "Add member" }).click();
  await expect(north.getByRole("row", { name: /Dr South Pathologist/ })).toContainText("South University Hospital");
  await north.getByLabel("Date and time").fill("2026-12-01T14:00");
  await north.getByRole("button", { name: "Schedule session" }).click();
  await north.waitForURL(/\/boards\/sessions\//);
  await north.getByRole("link", { name: "← Regional sarcoma panel" }).click();
  await expect(north.getByRole("link", { name: "Open" })).toBeVisible();
  await north.screenshot({ path: "test-results/board-page.png", fullPage: true });
  await north.getByRole("link", { name: "Open" }).click();
  await north.waitForURL(/\/boards\/sessions\//);
  const sessionPath = new URL(north.url()).pathname;
  const sessionId = sessionPath.split("/").pop()!;
  await north.getByLabel(/Put a case of North Pathology Lab on the agenda/).fill("N26-0001");
  await north.getByRole("button", { name: "Add case" }).click();
  await expect(north.getByTestId("agenda-item")).toContainText("N26-0001");
  await expect(north.getByTestId("agenda-item")).toContainText("A1 · H&E; A2 · Ki-67");
  await north.getByRole("button", { name: "Start session" }).click();
  await expect(north.getByTestId("session-status")).toHaveText("live");
  await expect(north.getByTestId("board-live")).toHaveAttribute("data-role", "presenter");
  await expect(north.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await expect.poll(() => viewOf(north)).not.toBeNull();
  const home = (await viewOf(north))!;

  // South joins from the board list and sees North's slide through the board's grant.
  const southContext = await browser.newContext({ viewport });
  const south = await southContext.newPage();
  const southTiles: number[] = [];
  south.on("response", (r) => {
    if (/\/tiles\/.+\/slide_files\//.test(r.url())) southTiles.push(r.status());
  });
  await signIn(south, "pathologist@south.example");
  await south.getByRole("link", { name: "Boards" }).click();
  await south.getByRole("link", { name: "Regional sarcoma panel" }).click();
  await south.getByRole("link", { name: "Join" }).click();
  await expect(south.getByTestId("board-live")).toHaveAttribute("data-role", "follower");
  await expect(south.getByTestId("board-live")).toHaveAttribute("data-following", "true");
  await expect(south.getByRole("status").filter({ hasText: "Following" })).toContainText("Dr North Pathologist");
  await expect.poll(() => southTiles.filter((s) => s === 200).length, { timeout: 20_000 }).toBeGreaterThan(3);
  expect(southTiles.every((s) => s === 200)).toBe(true);
  await expect.poll(() => distinctColours(south), { timeout: 10_000 }).toBeGreaterThan(50);

  // North pans, zooms and rotates; South's viewport follows.
  await north.getByRole("button", { name: "Zoom in" }).click();
  await north.getByRole("button", { name: "Zoom in" }).click();
  await drag(north, -180, -120);
  await north.getByRole("button", { name: "Rotate right" }).click();
  await expectFollows(south, north);
  const followed = (await viewOf(south))!;
  expect(followed.zoom / home.zoom).toBeCloseTo(1.5 * 1.5, 3);
  expect(followed.rotation).toBe(90);
  await expect(south.getByTestId("delay")).toContainText(/\d+ ms/);
  // The presenter's pointer shows on the follower's slide.
  const northViewer = (await north.getByTestId("viewer").boundingBox())!;
  await north.mouse.move(northViewer.x + 200, northViewer.y + 150, { steps: 3 });
  await expect(south.getByLabel("Presenter's pointer")).toBeVisible();
  await expect(north.getByLabel("Presenter's pointer")).toBeHidden();
  await north.screenshot({ path: "test-results/board-presenter.png" });
  await south.screenshot({ path: "test-results/board-follower.png" });

  // South breaks away: North's moves no longer move South's view, which South moves freely.
  await south.getByRole("button", { name: "Break away" }).click();
  await expect(south.getByTestId("board-live")).toHaveAttribute("data-following", "false");
  await south.getByRole("button", { name: "Zoom out" }).click();
  await drag(north, 150, 60);
  await north.getByRole("button", { name: "Zoom in" }).click();
  // Once North's last view has reached South, South's own view has still not followed it.
  const received = async () => {
    const json = await south.getByTestId("board-live").getAttribute("data-presenter-view");
    return json ? (JSON.parse(json) as View) : null;
  };
  await expect.poll(async () => same(await received(), await viewOf(north)), { timeout: 20_000 }).toBe(true);
  expect(same(await viewOf(south), await viewOf(north))).toBe(false);
  // Another slide of the agenda, on South's own.
  await south.getByRole("button", { name: "N26-0001 · A2 · Ki-67" }).click();
  await expect.poll(async () => (await viewOf(south))?.slideId).not.toBe((await viewOf(north))!.slideId);
  // Rejoin snaps back to the presenter's current slide and view.
  await south.getByRole("button", { name: "Rejoin" }).click();
  await expectFollows(south, north);

  // The presenter keeps a snapshot of the view with the case.
  await north.getByRole("button", { name: "Snapshot" }).click();
  await expect(north.getByRole("status").filter({ hasText: "Snapshot 1 kept with N26-0001" })).toBeVisible();

  // The chair hands the presenter role to South; North now follows South.
  await north.getByLabel("Hand the presenter role to").selectOption({ label: "Dr South Pathologist" });
  await north.getByRole("button", { name: "Hand over" }).click();
  await expect(south.getByTestId("board-live")).toHaveAttribute("data-role", "presenter");
  await expect(north.getByTestId("board-live")).toHaveAttribute("data-role", "follower");
  await drag(south, -100, 80);
  await expectFollows(north, south);

  // South and North each contribute; neither overwrites the other. The chair (North) marks
  // South's as the agreed conclusion; both see it with who proposed it and who agreed it.
  const conclusion = "Atypical spindle cell proliferation; favour leiomyosarcoma, FNCLCC grade 2. Re-excision with wider margins.";
  await south.getByLabel("Your contribution to the conclusion").fill(conclusion);
  await south.getByRole("button", { name: "Add contribution" }).click();
  await expect(north.getByTestId("contribution").filter({ hasText: conclusion })).toContainText("Dr South Pathologist");
  await north.getByLabel("Your contribution to the conclusion").fill("Grade 3 cannot be excluded on this biopsy.");
  await north.getByRole("button", { name: "Add contribution" }).click();
  await expect(south.getByTestId("contribution")).toHaveCount(2);
  await expect(south.getByRole("button", { name: /Mark .* as agreed/ })).toHaveCount(0); // only the chair marks
  await north.getByRole("button", { name: "Mark Dr South Pathologist's contribution as agreed" }).click();
  await expect(south.getByTestId("agreed-conclusion")).toContainText(conclusion);
  await expect(south.getByTestId("agreed-conclusion")).toContainText("proposed by Dr South Pathologist, marked agreed by Dr North Pathologist (chair)");
  await expect(north.getByTestId("contribution").filter({ hasText: "Grade 3 cannot be excluded" })).toContainText("Dr North Pathologist");
  await expect(north.getByRole("img", { name: "Snapshot 1 of N26-0001" })).toBeVisible();

  // The minutes: board, members, case, slides, conclusion with its author, the snapshot.
  const minutes = await north.request.get(`/api/boards/sessions/${sessionId}/minutes.md`);
  expect(minutes.status()).toBe(200);
  expect(minutes.headers()["content-type"]).toContain("text/markdown");
  const markdown = await minutes.text();
  await writeFile("test-results/board-minutes.md", markdown);
  expect(markdown).toContain("# Regional sarcoma panel: minutes");
  expect(markdown).toContain("Dr South Pathologist (South University Hospital)");
  expect(markdown).toContain("## 1. N26-0001 — Skin, left forearm, excision");
  expect(markdown).toMatch(/\*\*Agreed conclusion\*\* \(proposed by Dr South Pathologist, marked agreed by Dr North Pathologist, [\d-]+ [\d:]+ UTC\):/);
  expect(markdown).toContain("> Grade 3 cannot be excluded on this biopsy.");
  expect(markdown).toContain("> Atypical spindle cell proliferation; favour leiomyosarcoma, FNCLCC grade 2. Re-excision with wider margins.");
  expect(markdown).toContain("**Attended the live session:** Dr North Pathologist, Dr South Pathologist");
  const snapshotUrl = /!\[Snapshot 1 of N26-0001\]\((\S+)\)/.exec(markdown)?.[1];
  expect(snapshotUrl).toBeTruthy();
  const image = await south.request.get(new URL(snapshotUrl!).pathname);
  expect(image.headers()["content-type"]).toBe("image/jpeg");
  expect((await image.body()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

  // Someone not on the board learns nothing of it.
  const eastContext = await browser.newContext();
  const east = await eastContext.newPage();
  await signIn(east, "pathologist@east.example");
  expect((await east.goto(sessionPath))?.status()).toBe(404);
  expect((await east.request.get(`/api/boards/sessions/${sessionId}/minutes.md`)).status()).toBe(404);
  expect((await east.request.get(new URL(snapshotUrl!).pathname)).status()).toBe(404);

  // The chair ends the session; the follower's page says so.
  await north.getByRole("button", { name: "End session" }).click();
  await expect(north.getByTestId("session-status")).toHaveText("closed");
  await expect(south.getByTestId("session-status")).toHaveText("closed");
  await expect(south.getByTestId("board-live")).toContainText("The session has ended");

  // The closed record is read-only: no contribution form, a correction is a signed addendum.
  await south.reload();
  await expect(south.getByLabel("Your contribution to the conclusion")).toHaveCount(0);
  await south.getByLabel("Addendum").fill("On review of the desmin stain: diffuse positivity, supports leiomyosarcoma.");
  await south.getByRole("button", { name: "Sign and add the addendum" }).click();
  await expect(south.getByTestId("addendum")).toContainText("signed by Dr South Pathologist");
  await expect(south.getByTestId("agreed-conclusion")).toContainText(conclusion);
  await south.screenshot({ path: "test-results/board-closed-record.png", fullPage: true });
  await Promise.all([northContext.close(), southContext.close(), eastContext.close()]);
});
