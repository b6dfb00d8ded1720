import NextAuth, { CredentialsSignin } from "next-auth";
import { cache } from "react";
import type { Provider } from "next-auth/providers";
import Credentials from "next-auth/providers/credentials";
import { activeSessionUser, endSession, resolveOidcSignIn, signInWithPassword, startSession } from "@pathx/api";
import { hubEnv } from "./env";
import { clientAddress } from "./server/request-guard";
import { logAuthError } from "./server/auth-log";
import { getDeps } from "./server/deps";
import { landingUrl } from "./server/redirects";

const SESSION_SECONDS = 8 * 60 * 60;

/** Too many failed sign-ins: the code carries the seconds to wait (the route answers 429 with it). */
export class ThrottledSignIn extends CredentialsSignin {
  constructor(retryAfterSeconds: number) {
    super();
    this.code = `throttled_${retryAfterSeconds}`;
  }
}

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

/** The lab identity provider's answer for these claims: who it signs in, or why not. */
async function resolveLabOidc(profile: Record<string, unknown> | undefined) {
  const env = hubEnv();
  const { db } = await getDeps();
  return resolveOidcSignIn(db, { issuer: env.OIDC_ISSUER!, labSlug: env.OIDC_LAB! }, profile ?? {});
}

export const { handlers, auth, signIn, signOut } = NextAuth({
  session: { strategy: "jwt", maxAge: SESSION_SECONDS },
  // The identity provider must see the public URL as redirect_uri (behind next start the
  // request URL says localhost).
  redirectProxyUrl: hubEnv().AUTH_URL ? `${hubEnv().AUTH_URL}/api/auth` : undefined,
  // Cookies are Secure (and __Secure- prefixed) when the public URL is https: AUTH_URL, or
  // X-Forwarded-Proto from a TLS proxy when AUTH_URL is unset (Auth.js's own rule).
  pages: { signIn: "/sign-in" },
  logger: { error: (error) => logAuthError(error) },
  trustHost: true,
  providers: [
    ...providers(),
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, request) {
        const email = typeof credentials?.email === "string" ? credentials.email : "";
        const password = typeof credentials?.password === "string" ? credentials.password : "";
        if (!email || !password) throw new CredentialsSignin();
        const { db } = await getDeps();
        const answer = await signInWithPassword(db, { email, password, address: clientAddress(request.headers) });
        if (answer.outcome === "throttled") throw new ThrottledSignIn(answer.retryAfterSeconds);
        if (answer.outcome !== "ok") throw new CredentialsSignin();
        return answer.user;
      },
    }),
  ],
  callbacks: {
    // Land on the public origin (the request's own says localhost behind next start); never leave the site.
    redirect({ url, baseUrl }) {
      return landingUrl(url, baseUrl, hubEnv().AUTH_URL);
    },
    // The lab's identity provider signs in only members of its own lab (see resolveOidcSignIn).
    async signIn({ account, profile }) {
      if (account?.provider !== "lab-oidc") return true;
      const answer = await resolveLabOidc(profile);
      return answer.outcome === "ok" ? true : `/sign-in?error=${answer.reason}`;
    },
    // The token carries a session id; the session row is checked on every request, so an ended
    // session (signed out, member removed, signed out everywhere) stops working at once.
    async jwt({ token, user, account, profile }) {
      const { db } = await getDeps();
      if (account) {
        let userId = user?.id;
        if (account.provider === "lab-oidc") {
          const answer = await resolveLabOidc(profile);
          userId = answer.outcome === "ok" ? answer.userId : undefined;
        }
        if (!userId) return null;
        const method = account.provider === "lab-oidc" ? `oidc:${hubEnv().OIDC_ISSUER}` : "password";
        return { sub: userId, sid: await startSession(db, { userId, method, maxAgeSeconds: SESSION_SECONDS }), name: user?.name, email: user?.email };
      }
      const sid = typeof token.sid === "string" ? token.sid : undefined;
      if (!sid || !token.sub || (await activeSessionUser(db, sid)) !== token.sub) return null;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
  events: {
    async signOut(message) {
      const sid = "token" in message ? message.token?.sid : undefined;
      if (typeof sid === "string") await endSession((await getDeps()).db, sid, "signed-out");
    },
  },
});

/**
 * The signed-in user's id for this request, or undefined. Asked once per server render (the
 * session row check is a database read), however many components ask.
 */
export const currentUserId = cache(async (): Promise<string | undefined> => {
  const session = await auth();
  return session?.user?.id ?? undefined;
});
