import { readFileSync } from "node:fs";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

export class HubError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Calls the hub (outbound HTTPS only); retries network failures and 5xx with growing pauses.
 * Nine attempts ride out about a minute and a half of a hub restarting or a deploy.
 */
export async function callHub<T>(hub: string, path: string, init: { method: string; credential?: string; json?: unknown; body?: Uint8Array; headers?: Record<string, string>; signal?: AbortSignal }, attempts = 9): Promise<T> {
  const headers: Record<string, string> = { "x-pathx-version": version, ...init.headers };
  if (init.credential) headers.authorization = `Bearer ${init.credential}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(new URL(path, hub), { method: init.method, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body, signal: init.signal });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      if (attempt >= attempts) throw new HubError(0, `cannot reach the hub at ${hub} (${(error as Error).message})`);
    }
    if (response) {
      const payload = (await response.json().catch(() => ({}))) as { error?: string };
      if (response.ok) return payload as T;
      if (response.status < 500 || attempt >= attempts) throw new HubError(response.status, payload.error ?? `the hub answered HTTP ${response.status}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** (attempt - 1))));
  }
}

export { version as agentVersion };
