import { readFileSync } from "node:fs";
import { readNodeEnv } from "../env";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

export class HubError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A slow lab link's pace: a request's body at this rate is added to the time allowed for its answer. */
const SLOWEST_BYTES_PER_SECOND = 64 * 1024;
let configuredAnswerSeconds: number | undefined;
/** PATHX_HUB_ANSWER_SECONDS: how long one request may wait for the hub's answer (besides its body's time). */
export const hubAnswerSeconds = () => (configuredAnswerSeconds ??= readNodeEnv().PATHX_HUB_ANSWER_SECONDS);

/**
 * Calls the hub (outbound HTTPS only); retries network failures, 5xx and attempts the hub did
 * not answer in time with growing pauses. Nine attempts ride out about a minute and a half of a
 * hub restarting or a deploy. An attempt that gets no answer (status and body) within
 * PATHX_HUB_ANSWER_SECONDS (`answerSeconds`), plus its body's time at a slow link's pace,
 * counts as failed: a crashed proxy or a half-open connection otherwise holds it until the
 * platform's own limit (5 minutes for fetch's headers).
 */
export async function callHub<T>(
  hub: string,
  path: string,
  init: { method: string; credential?: string; json?: unknown; body?: Uint8Array; headers?: Record<string, string>; signal?: AbortSignal; answerSeconds?: number },
  attempts = 9,
): Promise<T> {
  const headers: Record<string, string> = { "x-pathx-version": version, ...init.headers };
  if (init.credential) headers.authorization = `Bearer ${init.credential}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  const allowedMs = Math.round((init.answerSeconds ?? hubAnswerSeconds()) * 1000 + ((body?.length ?? 0) / SLOWEST_BYTES_PER_SECOND) * 1000);
  for (let attempt = 1; ; attempt++) {
    const timeout = AbortSignal.timeout(allowedMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const response = await fetch(new URL(path, hub), { method: init.method, headers, body, signal });
      const text = await response.text();
      const payload = (() => {
        try {
          return JSON.parse(text) as { error?: string };
        } catch {
          return {};
        }
      })();
      if (response.ok) return payload as T;
      if (response.status < 500 || attempt >= attempts) throw new HubError(response.status, payload.error ?? `the hub answered HTTP ${response.status}`);
    } catch (error) {
      if (error instanceof HubError || init.signal?.aborted) throw error;
      const failure = timeout.aborted ? `no answer within ${(allowedMs / 1000).toFixed(allowedMs < 10_000 ? 1 : 0)} s` : (error as Error).message;
      if (attempt >= attempts) throw new HubError(0, `cannot reach the hub at ${hub} (${failure})`);
    }
    await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** (attempt - 1))));
  }
}

export { version as agentVersion };
