import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "@playwright/test";

// The hub as `npm start` runs it, on fresh embedded data, driven by Debian's Chromium.
// E2E_PORT / E2E_OIDC_PORT let several checkouts run their suites side by side.
const port = Number(process.env.E2E_PORT ?? 3210 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0));
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3299 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0));
const data = join(tmpdir(), `pathx-e2e-${Date.now()}`);

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  timeout: 90_000,
  // The machine is shared and tiles in the background: states may take longer than 5 s to show.
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      // A real OpenID Connect provider, standing in for a lab's identity provider.
      command: `npx tsx oidc-server.ts ${oidcPort} http://127.0.0.1:${port}`,
      url: `http://127.0.0.1:${oidcPort}/.well-known/openid-configuration`,
      timeout: 30_000,
      reuseExistingServer: false,
    },
    {
      command: "bash ../scripts/start.sh",
      url: `http://127.0.0.1:${port}/sign-in`,
      timeout: 300_000,
      reuseExistingServer: false,
      stdout: "pipe",
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        PGLITE_DIR: join(data, "pglite"),
        STORAGE_DIR: join(data, "objects"),
        AUTH_SECRET: "e2e-secret-e2e-secret-e2e-secret",
        OIDC_ISSUER: `http://127.0.0.1:${oidcPort}`,
        OIDC_CLIENT_ID: "pathx-hub",
        OIDC_CLIENT_SECRET: "pathx-hub-secret-for-tests",
        OIDC_NAME: "Test Lab ID",
        // The provider is East Regional Lab's: it signs in East's members only.
        OIDC_LAB: "east",
      },
    },
  ],
});
