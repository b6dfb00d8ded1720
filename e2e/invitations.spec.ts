import { expect, test } from "@playwright/test";
import { signIn } from "./sign-in";

test("adding another lab's pathologist is an invitation: the same answer as for a new address, and no change until they answer", async ({ page, browser }) => {
  await signIn(page, "admin@north.example");
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByLabel("Email").fill("pathologist@east.example");
  await page.getByRole("button", { name: "Add user" }).click();
  // Worded for both cases: the page does not tell whether the address has an account.
  await expect(page.getByRole("status")).toHaveText(/^pathologist@east.example: a new account joins the lab at once; someone who already signs in/);
  await expect(page.getByRole("cell", { name: "Dr East Pathologist" })).toHaveCount(0);

  const other = await browser.newContext();
  const invitee = await other.newPage();
  await signIn(invitee, "pathologist@east.example");
  await invitee.goto("/inbox");
  const invitations = invitee.getByRole("region", { name: "Invitations" });
  await expect(invitations).toContainText(/invites you as pathologist/);
  await invitee.screenshot({ path: "test-results/invitation.png", fullPage: true });
  await invitations.getByRole("button", { name: "Decline" }).click();
  await expect(invitee.getByRole("region", { name: "Invitations" })).toHaveCount(0);
  await other.close();

  await page.reload();
  await expect(page.getByRole("cell", { name: "Dr East Pathologist" })).toHaveCount(0);
});
