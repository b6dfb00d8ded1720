import { AuthError } from "next-auth";
import { redirect } from "next/navigation";
import { oidcProvider, signIn } from "@/auth";

export const metadata = { title: "Sign in · Telepathology exchange" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; next?: string }> }) {
  const { error, next } = await searchParams;
  const target = next?.startsWith("/") && !next.startsWith("//") ? next : "/";
  const oidc = oidcProvider();
  return (
    <main>
      <div className="card signin">
        <h1>Sign in</h1>
        <p className="muted">Telepathology exchange: slides, second opinions and tumor boards across labs.</p>
        {error ? (
          <p className="error" role="alert">
            {error === "CredentialsSignin"
              ? "That email and password do not match an account. Check both and try again."
              : error === "NoAccount" || error === "AccessDenied"
                ? "Your lab's sign-in worked, but the exchange has no account for that email. Ask your lab administrator to add you."
                : "Sign-in failed; try again."}
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
              if (e instanceof AuthError) redirect(`/sign-in?error=${e.type}&next=${encodeURIComponent(target)}`);
              throw e;
            }
          }}
        >
          <label htmlFor="email">Email</label>
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
