import { type Browser, expect, type Page, test } from "@playwright/test";
import { signIn } from "./sign-in";

/** A user of their own lab in their own browser context (own cookies), as two people at two labs. */
async function asUser(browser: Browser, email: string): Promise<Page> {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const page = await context.newPage();
  await signIn(page, email);
  return page;
}

async function openCase(page: Page, accession: string) {
  await page.goto(`/?q=${accession}`);
  await page.getByRole("link", { name: accession, exact: true }).first().click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Case ${accession}`);
}

test("second opinion round trip: North asks South's dermatopathology pool, South reports, North sees it in the case", async ({ browser }) => {
  test.setTimeout(240_000);
  const north = await asUser(browser, "pathologist@north.example");
  const south = await asUser(browser, "pathologist@south.example");
  // The demo slides must be tiled before South can view them.
  await expect(north.getByRole("row", { name: /N26-0001.*A1/ }).getByText("ready")).toBeVisible({ timeout: 180_000 });

  await openCase(north, "N26-0001");
  await north.getByText("Ask a pathologist of another lab for a second opinion").click();
  // Nothing is shared until chosen; the summary names exactly what will be.
  await expect(north.getByRole("checkbox", { name: /A2/ })).not.toBeChecked();
  await north.getByRole("checkbox", { name: /A1/ }).check();
  await north.getByLabel("Clinical question").fill("Atypical melanocytic proliferation: melanoma in situ or dysplastic naevus?");
  await north.getByLabel("Urgency").selectOption("urgent");
  await north.getByLabel("Ask").selectOption({ label: "dermatopathology pool — South University Hospital" });
  await north.getByRole("button", { name: "Send request" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toContainText("sent");
  const requestUrl = north.url();

  // South: the inbox shows it; accepting opens exactly the chosen slide.
  // (Other tests may have left South other entries: count relative to what is there.)
  await south.goto("/inbox");
  const unreadOf = async () =>
    Number(/Inbox, (\d+) unread/.exec((await south.getByRole("link", { name: /^Inbox, \d+ unread$/ }).getAttribute("aria-label")) ?? "")?.[1]);
  const before = await unreadOf();
  expect(before).toBeGreaterThanOrEqual(1);
  await south.getByRole("link", { name: /URGENT Second opinion requested by Dr North Pathologist/ }).click();
  await expect(south).toHaveURL(requestUrl);
  expect(await unreadOf()).toBe(before - 1);
  await expect(south.getByText("Accept the request to open the slides")).toBeVisible();
  await south.getByRole("button", { name: "Accept" }).click();
  await expect(south.getByRole("heading", { level: 1 })).toContainText("accepted");
  await expect(south.getByRole("link", { name: /Slide A1/ })).toBeVisible();
  await expect(south.getByRole("link", { name: /Slide A2/ })).toHaveCount(0);
  await south.getByRole("link", { name: /Slide A1/ }).click();
  await expect(south.getByRole("note")).toContainText("A slide of North Pathology Lab, shared with you");
  await expect(south.getByTestId("viewer").locator("canvas").first()).toBeVisible();
  await south.screenshot({ path: "test-results/consult-viewer.png" });
  await south.goBack();

  await south.getByLabel("Diagnosis").fill("Melanoma in situ, lentigo maligna type");
  await south.getByLabel("Comment").fill("Confluent junctional nests with pagetoid spread; margins clear.");
  await south.getByLabel("ICD-O-3 code").fill("8742/2");
  await south.getByLabel("ICD-O-3 term").fill("Lentigo maligna");
  await south.getByRole("button", { name: "Send report" }).click();
  await expect(south.getByRole("heading", { level: 1 })).toContainText("reported");
  // Codes read as a pathologist reads them: system, code and term, no internal field names.
  await expect(south.getByRole("list", { name: "Coded diagnosis" })).toHaveText("ICD-O-3 8742/2 Lentigo maligna");
  await expect(south.getByText("icdO")).toHaveCount(0);

  // North: notified, sees the report in the case, closes the request, exports FHIR.
  await north.goto("/inbox");
  await expect(north.getByRole("link", { name: /Second-opinion report from Dr South Pathologist/ })).toBeVisible();
  await openCase(north, "N26-0001");
  await expect(north.getByText("Report by Dr South Pathologist: Melanoma in situ, lentigo maligna type")).toBeVisible();
  await expect(north.getByText(/turnaround \d+(\.\d)? h/)).toBeVisible();
  await north.screenshot({ path: "test-results/case-with-report.png", fullPage: true });
  await north.goto(requestUrl);
  const fhir = await north.request.get(`${requestUrl}/fhir.json`);
  const bundle = (await fhir.json()) as { entry: { resource: { resourceType: string; conclusion?: string } }[] };
  expect(bundle.entry.map((e) => e.resource.resourceType)).toEqual(["ServiceRequest", "Task", "DiagnosticReport"]);
  expect(bundle.entry[2]!.resource.conclusion).toBe("Melanoma in situ, lentigo maligna type");
  await north.getByRole("button", { name: "Close the request" }).click();
  await expect(north.getByRole("heading", { level: 1 })).toContainText("closed");
  // Another lab that was not asked cannot see the request.
  const east = await asUser(browser, "pathologist@east.example");
  await east.goto(requestUrl);
  await expect(east.getByRole("heading", { name: "Not found" })).toBeVisible();
});

test("prior lookup: North opens South's prior of the same patient with a reason; South's admin sees who, when and why", async ({ browser }) => {
  test.setTimeout(240_000);
  const north = await asUser(browser, "pathologist@north.example");
  await expect(north.getByRole("row", { name: /N26-0001.*A1/ }).getByText("ready")).toBeVisible({ timeout: 180_000 });
  await openCase(north, "N26-0001");
  const priors = north.locator("section", { has: north.getByRole("heading", { name: "Priors" }) });
  await expect(priors.getByText("North Pathology Lab (your lab)")).toBeVisible();
  await expect(priors.getByText("South University Hospital", { exact: true })).toBeVisible();
  await expect(priors.getByText("S26-1001")).toBeVisible();
  await north.screenshot({ path: "test-results/priors.png", fullPage: true });
  // No reason is chosen for the user: opening without one is refused by the form.
  await expect(priors.getByLabel(/Reason to open S26-1001/)).toHaveValue("");
  await priors.getByRole("button", { name: /Open \(recorded for South University Hospital\)/ }).click();
  await expect(north).toHaveURL(/\/cases\//);
  await priors.getByLabel(/Reason to open S26-1001/).selectOption("tumor board");
  await priors.getByRole("button", { name: /Open \(recorded for South University Hospital\)/ }).click();
  await expect(north.getByRole("note")).toContainText("opened as a prior study");
  await expect(north.getByTestId("viewer").locator("canvas").first()).toBeVisible({ timeout: 60_000 });

  const southAdmin = await asUser(browser, "admin@south.example");
  await southAdmin.goto("/admin");
  const views = southAdmin.getByRole("table", { name: "Remote views" });
  await expect(views.getByRole("row", { name: /Dr North Pathologist.*North Pathology Lab.*S26-1001.*prior study: tumor board/ })).toBeVisible();
  await southAdmin.screenshot({ path: "test-results/remote-views.png", fullPage: true });
});
