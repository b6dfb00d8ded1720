import { expect, type Page } from "@playwright/test";

export const demoPassword = "pathx-demo-2026";

/** Signs in with email and password and waits for the lab dashboard. */
export async function signIn(page: Page, email: string, password = demoPassword) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  // A loaded machine (tiling in the background) may take a while to answer the first time.
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Slides of", { timeout: 30_000 });
}
