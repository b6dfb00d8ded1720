import Provider from "oidc-provider";

// A real OpenID Connect provider on loopback standing in for a lab's identity provider: any
// login name is accepted on its own (development) login page. The name carries the claims:
// "EMAIL[;sub=SUBJECT][;unverified|;unstated]": the subject defaults to the e-mail,
// email_verified is true, false (unverified) or left out (unstated).
const port = Number(process.argv[2] ?? 3299);
const hub = process.argv[3] ?? "http://127.0.0.1:3210";
function claimsOf(login: string) {
  const [email = "", ...flags] = login.split(";");
  const sub = flags.find((f) => f.startsWith("sub="))?.slice(4) || email;
  const verified = flags.includes("unverified") ? { email_verified: false } : flags.includes("unstated") ? {} : { email_verified: true };
  return { sub, email, ...verified, name: `OIDC ${email}` };
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: "pathx-hub",
      client_secret: "pathx-hub-secret-for-tests",
      redirect_uris: [`${hub}/api/auth/callback/lab-oidc`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  scopes: ["openid", "email", "profile"],
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => claimsOf(id),
  }),
  features: { devInteractions: { enabled: true } },
  // Put email and name in the ID token, as lab identity providers commonly do.
  conformIdTokenClaims: false,
});
(provider as unknown as { on: (e: string, f: (...a: unknown[]) => void) => void }).on("grant.error", (_ctx, error) => console.error("[oidc] grant error:", (error as Error).message, (error as { error_detail?: string }).error_detail ?? "", JSON.stringify((_ctx as { oidc?: { params?: unknown } }).oidc?.params ?? {})));
provider.listen(port, () => console.log(`OIDC provider on http://127.0.0.1:${port}`));
