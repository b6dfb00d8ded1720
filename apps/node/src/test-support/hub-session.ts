/**
 * A signed-in user of the hub over plain HTTP (Auth.js credentials sign-in, then tRPC over
 * fetch): what a browser does, without one.
 */
export async function signInOverHttp(hub: string, email: string, password = "pathx-demo-2026") {
  const jar = new Map<string, string>();
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const csrfResponse = await fetch(`${hub}/api/auth/csrf`);
  keep(csrfResponse);
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  const signIn = await fetch(`${hub}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookie() },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: hub }),
  });
  keep(signIn);
  if (![...jar.keys()].some((k) => k.includes("session-token"))) throw new Error(`sign-in as ${email} failed (HTTP ${signIn.status})`);

  async function trpc<T>(kind: "query" | "mutation", path: string, input: unknown = undefined): Promise<T> {
    const response =
      kind === "query"
        ? await fetch(`${hub}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input ?? null))}`, { headers: { cookie: cookie() } })
        : await fetch(`${hub}/api/trpc/${path}`, { method: "POST", headers: { cookie: cookie(), "content-type": "application/json" }, body: JSON.stringify(input ?? null) });
    const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
    if (!response.ok || !body.result) throw new Error(`${path}: ${body.error?.message ?? `HTTP ${response.status}`}`);
    return body.result.data;
  }
  return {
    cookie,
    query: <T>(path: string, input?: unknown) => trpc<T>("query", path, input),
    mutate: <T>(path: string, input?: unknown) => trpc<T>("mutation", path, input),
    /** A page as the browser would get it (server-rendered HTML). */
    page: (path: string) => fetch(`${hub}${path}`, { headers: { cookie: cookie() } }).then((r) => r.text()),
  };
}
