import { type Page, expect, test } from "@playwright/test";

// The test provider's port, as playwright.config.ts computes it.
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3299 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0));

/** `login` is the subject and carries the claims the provider asserts (see oidc-server.ts): "EMAIL[;TAG…]". */
async function signInThroughProvider(page: Page, login: string) {
  await page.goto("/sign-in");
  await page.getByRole("button", { name: "Sign in with Test Lab ID" }).click();
  // The provider's own pages: login, then consent.
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("anything");
  await page.locator("button[type=submit]").click();
  const consent = page.getByRole("button", { name: /continue/i });
  if (await consent.isVisible({ timeout: 3000 }).catch(() => false)) await consent.click();
}

test("a lab's own identity provider signs in a user the lab has added", async ({ page }) => {
  await signInThroughProvider(page, "pathologist@east.example");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Slides of East Regional Lab");
  await expect(page.getByText("Dr East Pathologist")).toBeVisible();
});

test("the identity provider's user with no exchange account is told to ask the lab admin", async ({ page }) => {
  await signInThroughProvider(page, "stranger@elsewhere.example");
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.locator("p[role=alert]")).toContainText("Ask your lab administrator to add you");
});

test("a lab's identity provider cannot sign in a member of another lab", async ({ page }) => {
  await signInThroughProvider(page, "pathologist@south.example");
  await expect(page).toHaveURL(/\/sign-in\?error=no-account/);
  await expect(page.locator("p[role=alert]")).toContainText("no account for you in this lab");
});

test("an e-mail the identity provider did not verify is refused, as is one it says nothing about", async ({ page, browser }) => {
  await signInThroughProvider(page, "admin@east.example;unverified");
  await expect(page.locator("p[role=alert]")).toContainText("did not confirm your email address");
  const context = await browser.newContext();
  const other = await context.newPage();
  await signInThroughProvider(other, "admin@east.example;unstated");
  await expect(other.locator("p[role=alert]")).toContainText("did not confirm your email address");
  await context.close();
});

test("a hub administrator never signs in through a lab's identity provider", async ({ page }) => {
  await signInThroughProvider(page, "hub-admin@pathx.example");
  await expect(page.locator("p[role=alert]")).toContainText("Hub administrators sign in with their exchange password");
});

test("once linked, the provider's subject keeps signing in the same person after an e-mail change", async ({ page, browser }) => {
  const subject = "admin@east.example;staff-0042";
  await signInThroughProvider(page, subject);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Slides of East Regional Lab");
  await expect(page.getByText("East Regional Lab admin")).toBeVisible();
  // The lab's IT renames the person: same subject, new address the exchange has never seen.
  const rename = await fetch(`http://127.0.0.1:${oidcPort}/test/set-email?${new URLSearchParams({ sub: subject, email: "a.admin@east-renamed.example" })}`);
  expect(rename.ok).toBe(true);
  const laterContext = await browser.newContext();
  const later = await laterContext.newPage();
  await signInThroughProvider(later, subject);
  await expect(later.getByRole("heading", { level: 1 })).toHaveText("Slides of East Regional Lab");
  await expect(later.getByText("East Regional Lab admin")).toBeVisible();
  // Whoever the provider now gives the old address under another subject is not let in as them.
  const impostorContext = await browser.newContext();
  const impostor = await impostorContext.newPage();
  await signInThroughProvider(impostor, "admin@east.example;someone-else");
  await expect(impostor.locator("p[role=alert]")).toContainText("no account for you in this lab");
  await laterContext.close();
  await impostorContext.close();
});
