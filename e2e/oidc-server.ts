import Provider from "oidc-provider";

// A real OpenID Connect provider on loopback standing in for a lab's identity provider: any
// login name is accepted on its own (development) login page. The login name is the subject
// and carries the other claims: "EMAIL[;TAG…]" with TAG unverified (email_verified false),
// unstated (no email_verified) or anything else (only a different subject). A test changes a
// subject's e-mail, as a lab's IT would, with GET /test/set-email?sub=…&email=….
const port = Number(process.argv[2] ?? 3299);
const hub = process.argv[3] ?? "http://127.0.0.1:3210";
const changedEmails = new Map<string, string>();

function claimsOf(login: string) {
  const [given = "", ...tags] = login.split(";");
  const email = changedEmails.get(login) ?? given;
  const verified = tags.includes("unverified") ? { email_verified: false } : tags.includes("unstated") ? {} : { email_verified: true };
  return { sub: login, email, ...verified, name: `OIDC ${email}` };
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
(
  provider as unknown as { use: (f: (ctx: { path: string; query: Record<string, string>; body: string }, next: () => Promise<void>) => Promise<void>) => void }
).use(async (ctx, next) => {
  if (ctx.path !== "/test/set-email") return next();
  changedEmails.set(ctx.query.sub ?? "", ctx.query.email ?? "");
  ctx.body = "ok";
});
(provider as unknown as { on: (e: string, f: (...a: unknown[]) => void) => void }).on("grant.error", (_ctx, error) =>
  console.error(
    "[oidc] grant error:",
    (error as Error).message,
    (error as { error_detail?: string }).error_detail ?? "",
    JSON.stringify((_ctx as { oidc?: { params?: unknown } }).oidc?.params ?? {}),
  ),
);
provider.listen(port, () => console.log(`OIDC provider on http://127.0.0.1:${port}`));
