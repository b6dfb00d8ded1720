import { createWatch } from "./watch";

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
        : await fetch(`${hub}/api/trpc/${path}`, {
            method: "POST",
            headers: { cookie: cookie(), "content-type": "application/json" },
            body: JSON.stringify(input ?? null),
          });
    const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
    if (!response.ok || !body.result) throw new Error(`${path}: ${body.error?.message ?? `HTTP ${response.status}`}`);
    return body.result.data;
  }
  return {
    cookie,
    /** Subscribes to the hub's live events (SSE) with this session. */
    events: (topics: string[], options: { hub?: string; since?: number } = {}) => openEventStream(options.hub ?? hub, cookie(), topics, options.since),
    query: <T>(path: string, input?: unknown) => trpc<T>("query", path, input),
    mutate: <T>(path: string, input?: unknown) => trpc<T>("mutation", path, input),
    /** A page as the browser would get it (server-rendered HTML). */
    page: (path: string) => fetch(`${hub}${path}`, { headers: { cookie: cookie() } }).then((r) => r.text()),
  };
}

export interface StreamedEvent {
  id: number;
  topic: string;
  payload: Record<string, unknown>;
  /** When the database recorded it (ms since epoch). */
  at: number;
  /** When it arrived here. */
  receivedAt: number;
}

export interface EventStream {
  /** HTTP status of the subscription (200, or 401/403 when refused). */
  status: number;
  events: StreamedEvent[];
  /** Resolves once an event satisfies `test` (checking those already received first). */
  waitFor(test: (event: StreamedEvent) => boolean, seconds?: number): Promise<StreamedEvent>;
  close(): void;
}

/**
 * A Server-Sent Events client for `GET /api/events` (what the browser's EventSource does):
 * resolves once the hub has registered the subscription (its first comment line).
 */
export async function openEventStream(hub: string, cookie: string, topics: string[], since?: number): Promise<EventStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { cookie, accept: "text/event-stream" };
  if (since !== undefined) headers["last-event-id"] = String(since);
  const response = await fetch(`${hub}/api/events?topics=${encodeURIComponent(topics.join(","))}`, { headers, signal: abort.signal });
  const events: StreamedEvent[] = [];
  const watch = createWatch();
  const stream: EventStream = {
    status: response.status,
    events,
    waitFor: (test, seconds = 120) =>
      watch.until(
        () => events.find(test),
        seconds,
        () => `no matching event within ${seconds} s (${events.length} received)`,
      ),
    close: () => abort.abort(),
  };
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    return stream;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let registered!: () => void;
  const ready = new Promise<void>((resolve) => (registered = resolve));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^: connected/m.test(block)) registered();
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!id || !data) continue;
          const parsed = JSON.parse(data) as { topic: string; payload: Record<string, unknown>; at: number };
          events.push({ id: Number(id), ...parsed, receivedAt: Date.now() });
          watch.changed();
        }
      }
    } catch {
      // closed by us
    } finally {
      registered(); // a stream that ended before it began must not keep the caller waiting
    }
  })();
  await ready;
  return stream;
}
