import { expect, test } from "@playwright/test";
import { signIn } from "./sign-in";

test("a lab admin adds a pathologist, who can then sign in to that lab", async ({ page, browser }) => {
  await signIn(page, "admin@east.example");
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Users of East Regional Lab");
  await page.getByLabel("Email").fill("new.pathologist@east.example");
  await page.getByLabel("Name").fill("Dr New");
  await page.getByLabel(/First password/).fill("a-first-password-2026");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status")).toHaveText(/^new.pathologist@east.example: a new account joins the lab at once/);
  await expect(page.getByRole("cell", { name: "Dr New", exact: true })).toBeVisible();
  await page.screenshot({ path: "test-results/admin.png", fullPage: true });
  // The only admin cannot demote themselves.
  await page
    .getByRole("row", { name: /East Regional Lab admin/ })
    .getByRole("button", { name: "Make pathologist" })
    .click();
  await expect(page.getByRole("status")).toContainText("at least one administrator");

  const other = await browser.newContext();
  const newcomer = await other.newPage();
  await signIn(newcomer, "new.pathologist@east.example", "a-first-password-2026");
  await expect(newcomer.getByText("East Regional Lab").first()).toBeVisible();
  await newcomer.goto("/admin");
  await expect(newcomer.getByText("Only a lab administrator can manage")).toBeVisible();
  await other.close();
});
