import { expect, test } from "@playwright/test";

test("repeated wrong passwords are slowed down, and the sign-in page says how long to wait", async ({ page }) => {
  const tryPassword = async (password: string) => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill("throttle-target@north.example");
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    return (await page.locator("p[role=alert]").textContent()) ?? "";
  };
  // Five failures are free, the sixth starts a delay that doubles with each failure after it:
  // keep guessing until one lands inside the delay (however slow this machine is).
  const answers: string[] = [];
  for (let i = 0; i < 12 && !answers.some((a) => a.includes("Too many")); i++) answers.push(await tryPassword(`guess-${i}`));
  expect(answers.slice(0, 6).every((a) => a.includes("do not match"))).toBe(true);
  await expect(page.locator("p[role=alert]")).toContainText(
    /Too many failed sign-ins for this account or from this network\. Wait \d+ (seconds|minutes) and try again\./,
  );
  await page.screenshot({ path: "test-results/sign-in-throttled.png" });
});
