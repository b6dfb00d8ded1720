import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { tissuePixel, writeTestTiff } from "@pathx/wsi/test-support";
import { signIn } from "./sign-in";

// What a pathologist and a technician hit in their first hour (issue 14), each as they would.

async function asUser(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const page = await context.newPage();
  await signIn(page, email);
  return page;
}

const unreadOf = async (page: Page) =>
  Number(/Inbox, (\d+) unread/.exec((await page.getByRole("link", { name: /^Inbox, \d+ unread$/ }).getAttribute("aria-label")) ?? "")?.[1]);

test("a second opinion shares only the chosen slide, reads its inbox entry when opened directly, and asks before it is withdrawn", async ({ browser }) => {
  test.setTimeout(240_000);
  const north = await asUser(browser, "pathologist@north.example");
  const south = await asUser(browser, "pathologist@south.example");
  // A2 (Ki-67): a slide no other test shares with South.
  await expect(north.getByRole("row", { name: /N26-0001.*A2/ }).getByText("ready")).toBeVisible({ timeout: 180_000 });
  await north.goto("/?q=N26-0001");
  await north.getByRole("link", { name: "N26-0001", exact: true }).first().click();
  await north.getByText("Ask a pathologist of another lab for a second opinion").click();
  // Nothing is ticked: sharing is chosen, never assumed.
  await expect(north.getByRole("checkbox", { name: /A1/ })).not.toBeChecked();
  await expect(north.getByRole("checkbox", { name: /A2/ })).not.toBeChecked();
  await expect(north.getByTestId("share-summary")).toContainText("No slide is shared yet");
  await expect(north.getByRole("button", { name: "Send request" })).toBeDisabled();
  await north.getByRole("checkbox", { name: /A2/ }).check();
  await north.getByLabel("Clinical question").fill("Junctional melanocytic proliferation: is this melanoma in situ?");
  await north.getByLabel("Ask").selectOption({ label: "Dr South Pathologist — South University Hospital" });
  await expect(north.getByTestId("share-summary")).toHaveText(
    "Dr South Pathologist — South University Hospital will see 1 slide: A2 · Ki-67, without the slide label. Nothing else of the case is shared.",
  );
  await north.screenshot({ path: "test-results/consult-request-summary.png", fullPage: true });
  await north.getByRole("button", { name: "Send request" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toContainText("sent");
  const requestPath = new URL(north.url()).pathname;

  // South opens the request from a link, not through the inbox: its entry is read all the same.
  await south.goto("/");
  const before = await unreadOf(south);
  expect(before).toBeGreaterThanOrEqual(1);
  await south.goto(requestPath);
  await expect(south.getByRole("heading", { level: 1 })).toContainText("Second opinion on case N26-0001");
  expect(await unreadOf(south)).toBe(before - 1);
  await south.getByRole("button", { name: "Accept" }).click();
  await expect(south.getByRole("heading", { level: 1 })).toContainText("accepted");

  // Withdrawing asks once, saying what the consultant loses; keeping it changes nothing.
  await north.reload();
  await north.getByRole("link", { name: "Withdraw" }).click();
  const question = north.getByRole("alertdialog");
  await expect(question).toContainText("Withdraw this request? Dr South Pathologist loses access to its slides at once");
  await north.screenshot({ path: "test-results/consult-withdraw-question.png", fullPage: true });
  await question.getByRole("link", { name: "Keep the request" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toContainText("accepted");
  await north.getByRole("link", { name: "Withdraw" }).click();
  await north.getByRole("button", { name: "Withdraw the request" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toContainText("withdrawn");
  await expect(north.getByRole("status")).toContainText("the consultant no longer has access");

  // (Other specs share these demo slides with South through boards, so the lost access itself is
  // shown by consults.test.ts.) A page that is not there keeps the top bar and a way back.
  await south.goto("/slides/00000000-0000-4000-8000-000000000000");
  await expect(south.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(south.getByRole("link", { name: /^Inbox, \d+ unread$/ })).toBeVisible();
  await expect(south.getByRole("link", { name: "Boards" })).toBeVisible();
  await south.screenshot({ path: "test-results/not-found.png", fullPage: true });
  await south.getByRole("link", { name: "← Back to your slides" }).click();
  await expect(south.getByRole("heading", { level: 1 })).toContainText("Slides of South University Hospital");
});

test("the localhost link Next prints signs in too: both loopback names lead to the one hub URL", async ({ page, baseURL }) => {
  const port = new URL(baseURL!).port;
  await page.goto(`http://localhost:${port}/sign-in`);
  await expect(page).toHaveURL(`http://127.0.0.1:${port}/sign-in`);
  await signIn(page, "pathologist@north.example");
  await expect(page).toHaveURL(`http://127.0.0.1:${port}/`);
  // Signed out, a missing page still offers the way in.
  const anonymous = await page.context().browser()!.newPage();
  await anonymous.goto(`http://127.0.0.1:${port}/no-such-page`);
  await expect(anonymous.getByRole("heading", { name: "Not found" })).toBeVisible();
  await expect(anonymous.getByRole("link", { name: "Sign in" })).toBeVisible();
});

test("upload: the same file chosen again resumes (after the accession was missing, after a dropped connection), and a file that is no slide is refused at once", async ({
  page,
}) => {
  test.setTimeout(240_000);
  const path = join(tmpdir(), `e2e-first-hour-${Date.now()}.tif`);
  // Its own pixels: a file another spec uploads would be recognised as already there.
  await writeFile(
    path,
    writeTestTiff([{ width: 2400, height: 2400, tileSize: 256, compression: "none", pixel: (x, y) => tissuePixel(x + 17, y), pixelsPerCm: 40_000 }]).bytes,
  );
  await signIn(page, "pathologist@south.example");
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "PUT" && r.url().includes("/chunks/")) sent.push(r.url().split("/chunks/")[1]!);
  });
  const picker = page.getByLabel("Slide file");

  // The form asks for the accession number first; the picker is cleared so the same file counts again.
  await picker.setInputFiles(path);
  await expect(page.locator("p[role=alert]")).toContainText("Give the case's accession number first");
  await expect(picker).toHaveValue("");
  await page.getByLabel("Case accession number").fill("S26-9100");

  // The network drops the last chunk: the upload stops with a way to retry.
  await page.route("**/api/uploads/*/chunks/2", (route) => route.abort("connectionreset"));
  await picker.setInputFiles(path);
  await expect(page.locator("p[role=alert]")).toContainText("choose the same file again to resume", { timeout: 60_000 });
  await expect(picker).toHaveValue("");
  await page.unroute("**/api/uploads/*/chunks/2");
  sent.length = 0;
  await page.getByRole("button", { name: /^Retry e2e-first-hour-/ }).click();
  await expect(page.getByRole("status")).toContainText("uploaded; it is being tiled", { timeout: 60_000 });
  expect(sent).toEqual(["2"]);

  // Not a slide: refused before a byte of it is sent, with the reason.
  const text = join(tmpdir(), `e2e-not-a-slide-${Date.now()}.svs`);
  await writeFile(text, "Pathology report, scanned to text by mistake. ".repeat(100));
  sent.length = 0;
  await page.getByLabel("Case accession number").fill("S26-9101");
  await picker.setInputFiles(text);
  await expect(page.locator("p[role=alert]")).toContainText("cannot be taken");
  await expect(page.locator("p[role=alert]")).toContainText("not a TIFF");
  await page.screenshot({ path: "test-results/upload-refused.png", fullPage: true });
  expect(sent).toEqual([]);
  await expect(page.getByText("uploaded; it is being tiled")).toHaveCount(0);
  await expect(page.getByRole("row", { name: /S26-9101/ })).toHaveCount(0);
});
