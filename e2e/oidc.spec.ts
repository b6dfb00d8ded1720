import { expect, test } from "@playwright/test";

async function signInThroughProvider(page: import("@playwright/test").Page, login: string) {
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
