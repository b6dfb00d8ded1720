import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { fixturePath, writeTestDicomSeries } from "@pathx/wsi/test-support";
import { runPathx } from "@pathx/node/test-support";
import { signIn } from "./sign-in";

test("a node publishes DICOM WSI (a single .dcm and a series folder) and the hub shows them in the viewer", async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  const work = await mkdtemp(join(tmpdir(), "e2e-dicom-"));
  const env = { PATHX_NODE_CONFIG: join(work, "node.json"), PATHX_PSEUDONYM_KEY: "labs-shared-key-for-tests" };

  // A single-file DICOM WSI instance, as a PACS export gives: the real Aperio slide through `pathx dicom`.
  const exported = join(work, "exported");
  expect((await runPathx(["dicom", fixturePath("CMU-1-Small-Region.svs"), "--out", exported], env)).code).toBe(0);
  // A series folder: three levels, level 0 a concatenation of two instances, and a label.
  const series = await writeTestDicomSeries(join(work, "N26-0201-B1"), {
    width: 2400,
    height: 1800,
    tileSize: 256,
    levels: 3,
    concatenationParts: 2,
    label: true,
  });

  await signIn(page, "admin@north.example");
  await page.goto("/admin");
  await page.getByRole("button", { name: "Create an enrolment token" }).click();
  const token = (await page.getByTestId("enrol-token").textContent())!.trim();
  expect((await runPathx(["node", "enroll", "--hub", baseURL!, "--token", token, "--name", "north-pacs-bridge"], env)).code).toBe(0);

  const single = await runPathx(
    ["node", "publish", join(exported, "level-0.dcm"), "--case", "N26-0200", "--block", "A1", "--stain", "H&E", "--patient", "19700101-4321"],
    env,
  );
  expect(single.stderr).toBe("");
  const singleId = /published slide ([0-9a-f-]{36})/.exec(single.stdout)?.[1];
  expect(singleId, single.stdout).toBeTruthy();
  // Written anew from the same source, the upload has the same bytes: publishing twice is one slide.
  const twice = await runPathx(["node", "publish", join(exported, "level-0.dcm"), "--case", "N26-0200", "--patient", "19700101-4321"], env);
  expect(twice.stdout).toContain("already published");

  const folder = await runPathx(["node", "publish", series.dir, "--case", "N26-0201", "--block", "B1", "--stain", "PAS"], env);
  expect(folder.stderr).toBe("");
  const folderId = /published slide ([0-9a-f-]{36})/.exec(folder.stdout)?.[1];
  expect(folderId, folder.stdout).toBeTruthy();

  for (const [id, width, height] of [
    [singleId, 2220, 2967],
    [folderId, 2400, 1800],
  ] as const) {
    await expect(async () => {
      const info = await page.request.get(`/api/trpc/slides.get?input=${encodeURIComponent(JSON.stringify({ id }))}`);
      const slide = ((await info.json()) as { result: { data: { status: string; width: number; height: number; hasLabel: boolean } } }).result.data;
      expect(slide).toMatchObject({ status: "ready", width, height, hasLabel: false });
    }).toPass({ timeout: 120_000 });
  }

  // The viewer shows the DICOM slide, and its tiles are real JPEG pixels.
  await page.goto("/?q=N26-0200");
  const row = page.getByRole("row", { name: /N26-0200/ });
  await expect(row.getByText("ready")).toBeVisible();
  await page.goto(
    `/cases/${await row
      .getByRole("link", { name: "N26-0200" })
      .getAttribute("href")
      .then((h) => h!.split("/").pop())}`,
  );
  const tile = page.waitForResponse((r) => /slide_files\/\d+\/\d+_\d+\.jpeg/.test(r.url()) && r.status() === 200);
  await page.getByRole("link", { name: /Slide A1/ }).click();
  await expect(page.getByTestId("viewer").locator("canvas").first()).toBeVisible({ timeout: 60_000 });
  const body = await (await tile).body();
  expect([...body.subarray(0, 2)]).toEqual([0xff, 0xd8]);
  await page.screenshot({ path: "test-results/dicom-viewer.png" });
});
