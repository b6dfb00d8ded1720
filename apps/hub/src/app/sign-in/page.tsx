import { AuthError, CredentialsSignin } from "next-auth";
import { redirect } from "next/navigation";
import { oidcProvider, signIn } from "@/auth";

export const metadata = { title: "Sign in · Telepathology exchange" };

/** What the person can do about a failed sign-in. */
function explain(error: string, retry: number | undefined): string {
  switch (error) {
    case "CredentialsSignin":
      return "That email and password do not match an account. Check both and try again.";
    case "Throttled":
      return `Too many failed sign-ins for this account or from this network. Wait ${retry && retry >= 120 ? `${Math.ceil(retry / 60)} minutes` : `${retry ?? 60} seconds`} and try again.`;
    case "unverified-email":
      return "Your lab's sign-in did not confirm your email address. Ask your lab's IT to verify it, then try again.";
    case "hub-admin":
      return "Hub administrators sign in with their exchange password, not through a lab's sign-in.";
    case "NoAccount":
    case "AccessDenied":
    case "no-account":
    case "linked-elsewhere":
    case "unknown-lab":
      return "Your lab's sign-in worked, but the exchange has no account for you in this lab. Ask your lab administrator to add you.";
    default:
      return "Sign-in failed; try again.";
  }
}

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; next?: string; retry?: string }> }) {
  const { error, next, retry } = await searchParams;
  const target = next?.startsWith("/") && !next.startsWith("//") ? next : "/";
  const oidc = oidcProvider();
  return (
    <main>
      <div className="card signin">
        <h1>Sign in</h1>
        <p className="muted">Telepathology exchange: slides, second opinions and tumor boards across labs.</p>
        {error ? (
          <p className="error" role="alert">
            {explain(error, retry ? Number(retry) || undefined : undefined)}
          </p>
        ) : null}
        {oidc ? (
          <form
            action={async () => {
              "use server";
              await signIn(oidc.id, { redirectTo: target });
            }}
          >
            <p>
              <button type="submit">Sign in with {oidc.name}</button>
            </p>
            <p className="muted">or with your exchange password:</p>
          </form>
        ) : null}
        <form
          action={async (form: FormData) => {
            "use server";
            try {
              await signIn("credentials", { email: form.get("email"), password: form.get("password"), redirectTo: target });
            } catch (e) {
              const wait = e instanceof CredentialsSignin ? /^throttled_(\d+)$/.exec(e.code)?.[1] : undefined;
              if (wait) redirect(`/sign-in?error=Throttled&retry=${wait}&next=${encodeURIComponent(target)}`);
              if (e instanceof AuthError) redirect(`/sign-in?error=${e.type}&next=${encodeURIComponent(target)}`);
              throw e;
            }
          }}
        >
          <label htmlFor="email">Email</label>
          {/* biome-ignore lint/a11y/noAutofocus: signing in is the page's only task, and the email field is its first step. */}
          <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          <p>
            <button type="submit">Sign in</button>
          </p>
        </form>
      </div>
    </main>
  );
}
