import NextAuth, { CredentialsSignin } from "next-auth";
import type { Provider } from "next-auth/providers";
import Credentials from "next-auth/providers/credentials";
import { authenticateWithPassword, findUserIdByEmail } from "@pathx/api";
import { hubEnv } from "./env";
import { logAuthError } from "./server/auth-log";
import { getDeps } from "./server/deps";

/** The lab identity provider, when this deployment has one configured. */
export function oidcProvider(): { id: string; name: string } | undefined {
  const env = hubEnv();
  return env.OIDC_ISSUER && env.OIDC_CLIENT_ID ? { id: "lab-oidc", name: env.OIDC_NAME } : undefined;
}

function providers(): Provider[] {
  const env = hubEnv();
  const list: Provider[] = [];
  if (env.OIDC_ISSUER && env.OIDC_CLIENT_ID) {
    list.push({
      id: "lab-oidc",
      name: env.OIDC_NAME,
      type: "oidc",
      issuer: env.OIDC_ISSUER,
      clientId: env.OIDC_CLIENT_ID,
      clientSecret: env.OIDC_CLIENT_SECRET,
      authorization: { params: { scope: "openid email profile" } },
    });
  }
  return list;
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
  // The identity provider must see the public URL as redirect_uri (behind next start the
  // request URL says localhost).
  redirectProxyUrl: hubEnv().AUTH_URL ? `${hubEnv().AUTH_URL}/api/auth` : undefined,
  pages: { signIn: "/sign-in" },
  logger: { error: (error) => logAuthError(error) },
  trustHost: true,
  providers: [
    ...providers(),
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials) {
        const email = typeof credentials?.email === "string" ? credentials.email : "";
        const password = typeof credentials?.password === "string" ? credentials.password : "";
        if (!email || !password) throw new CredentialsSignin();
        const { db } = await getDeps();
        const user = await authenticateWithPassword(db, email, password);
        if (!user) throw new CredentialsSignin();
        return { id: user.id, email: user.email, name: user.name };
      },
    }),
  ],
  callbacks: {
    // Land on the public origin (the request's own says localhost behind next start); never leave the site.
    redirect({ url, baseUrl }) {
      const origin = hubEnv().AUTH_URL ?? baseUrl;
      const target = new URL(url, origin);
      const allowed = new Set([new URL(origin).origin, new URL(baseUrl).origin]);
      return allowed.has(target.origin) ? `${new URL(origin).origin}${target.pathname}${target.search}` : origin;
    },
    // Someone from the lab's identity provider gets in only as a user the lab admin has added.
    async signIn({ account, profile }) {
      if (account?.provider !== "lab-oidc") return true;
      const email = profile?.email_verified === false ? undefined : profile?.email;
      const { db } = await getDeps();
      return email && (await findUserIdByEmail(db, email)) ? true : "/sign-in?error=NoAccount";
    },
    async jwt({ token, user, account, profile }) {
      if (account?.provider === "lab-oidc" && profile?.email) {
        const { db } = await getDeps();
        token.sub = await findUserIdByEmail(db, profile.email);
      } else if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
});

/** The signed-in user's id for this request, or undefined. */
export async function currentUserId(): Promise<string | undefined> {
  const session = await auth();
  return session?.user?.id ?? undefined;
}
