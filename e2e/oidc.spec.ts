import { type Page, expect, test } from "@playwright/test";

/** `login` carries the claims the provider asserts (see oidc-server.ts): "EMAIL[;sub=…][;unverified]". */
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
  await signInThroughProvider(page, "admin@east.example;sub=east-admin-unverified;unverified");
  await expect(page.locator("p[role=alert]")).toContainText("did not confirm your email address");
  const other = await (await browser.newContext()).newPage();
  await signInThroughProvider(other, "admin@east.example;sub=east-admin-unstated;unstated");
  await expect(other.locator("p[role=alert]")).toContainText("did not confirm your email address");
});

test("a hub administrator never signs in through a lab's identity provider", async ({ page }) => {
  await signInThroughProvider(page, "hub-admin@pathx.example");
  await expect(page.locator("p[role=alert]")).toContainText("Hub administrators sign in with their exchange password");
});

test("once linked, the provider's subject keeps signing in the same person after an e-mail change", async ({ page, browser }) => {
  await signInThroughProvider(page, "admin@east.example;sub=east-staff-0042");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Slides of East Regional Lab");
  await expect(page.getByText("East Regional Lab admin")).toBeVisible();
  const later = await (await browser.newContext()).newPage();
  await signInThroughProvider(later, "a.admin@east-renamed.example;sub=east-staff-0042");
  await expect(later.getByRole("heading", { level: 1 })).toHaveText("Slides of East Regional Lab");
  await expect(later.getByText("East Regional Lab admin")).toBeVisible();
  // Whoever the provider now gives the old address under another subject is not let in as them.
  const impostor = await (await browser.newContext()).newPage();
  await signInThroughProvider(impostor, "admin@east.example;sub=someone-else");
  await expect(impostor.locator("p[role=alert]")).toContainText("no account for you in this lab");
});
