import { readFileSync } from "node:fs";
import { CodedError, type ErrorCode, apiCodeOfHttpStatus } from "@pathx/errors";
import { AGENT_VERSION_HEADER, NODE_PROTOCOL_VERSION, type NodeRoute, PROTOCOL_HEADER, errorAnswer } from "@pathx/protocol";
import type { z } from "zod";
import { readNodeEnv } from "../env";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/**
 * The hub could not be reached (status 0), refused (4xx), failed (5xx), or answered in another
 * protocol (2xx). `hubCode` is the hub's own code, read back from the status (@pathx/errors).
 */
export class HubError extends CodedError<"node"> {
  override readonly name = "HubError";
  readonly hubCode: ErrorCode<"api"> | undefined;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super("node", status === 0 ? "HUB_UNREACHABLE" : status < 400 ? "PROTOCOL_MISMATCH" : status < 500 ? "HUB_REFUSED" : "HUB_FAILED", message);
    this.hubCode = apiCodeOfHttpStatus(status);
  }
}

/** Any route of the protocol (a path taking `never` accepts every path function). */
type AnyRoute = NodeRoute<never, z.ZodType | undefined, z.ZodType | undefined, z.ZodType>;
type ParamsOf<R extends AnyRoute> = Parameters<R["path"]>[0];
type BodyOf<R extends AnyRoute> = R["body"] extends z.ZodType ? z.input<R["body"]> : never;

export type HubCall<R extends AnyRoute> = (undefined extends ParamsOf<R> ? { params?: ParamsOf<R> } : { params: ParamsOf<R> }) & {
  credential?: string;
  /** The route's JSON body, as its schema in @pathx/protocol takes it. */
  json?: BodyOf<R>;
  /** Raw bytes instead (a chunk, or a body serialised already). */
  body?: Uint8Array;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Seconds one attempt may wait for the hub's answer (status and body); default PATHX_HUB_ANSWER_SECONDS. */
  answerSeconds?: number;
};

/** A slow lab link's pace: a request's body at this rate is added to the time allowed for its answer. */
const SLOWEST_BYTES_PER_SECOND = 64 * 1024;
let configuredAnswerSeconds: number | undefined;
/** PATHX_HUB_ANSWER_SECONDS: how long one request may wait for the hub's answer (besides its body's time). */
export const hubAnswerSeconds = () => (configuredAnswerSeconds ??= readNodeEnv().PATHX_HUB_ANSWER_SECONDS);

/**
 * Calls a route of the node protocol (@pathx/protocol; outbound HTTPS only) and checks the answer
 * against the route's schema: a hub that answers in another form, or says it speaks another
 * protocol version, is refused with a message saying so. Retries network failures, 5xx and
 * attempts the hub did not answer in time with growing pauses: nine attempts ride out about a
 * minute and a half of a hub restarting or a deploy. An attempt that gets no answer (status and
 * body) within PATHX_HUB_ANSWER_SECONDS (`answerSeconds`), plus its body's time at a slow link's
 * pace, counts as failed: a crashed proxy or a half-open connection otherwise holds it until the
 * platform's own limit (5 minutes for fetch's headers).
 */
export async function callHub<R extends AnyRoute>(hub: string, route: R, init: HubCall<R>, attempts = 9): Promise<z.output<R["answer"]>> {
  const path = (route.path as (params: unknown) => string)(init.params);
  const headers: Record<string, string> = { [AGENT_VERSION_HEADER]: version, [PROTOCOL_HEADER]: String(NODE_PROTOCOL_VERSION), ...init.headers };
  if (init.credential) headers.authorization = `Bearer ${init.credential}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
  const allowedMs = Math.round((init.answerSeconds ?? hubAnswerSeconds()) * 1000 + ((body?.length ?? 0) / SLOWEST_BYTES_PER_SECOND) * 1000);
  for (let attempt = 1; ; attempt++) {
    const timeout = AbortSignal.timeout(allowedMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const response = await fetch(new URL(path, hub), { method: route.method, headers, body, signal });
      // The whole answer within the deadline: an answer that breaks off half-way is a failed attempt.
      const text = await response.text();
      const payload: unknown = (() => {
        try {
          return JSON.parse(text);
        } catch {
          return {};
        }
      })();
      if (response.ok) return readAnswer(hub, route, path, response, payload);
      if (response.status < 500 || attempt >= attempts) {
        throw new HubError(response.status, errorAnswer.safeParse(payload).data?.error ?? `the hub answered HTTP ${response.status}`);
      }
    } catch (error) {
      if (error instanceof HubError || init.signal?.aborted) throw error;
      const failure = timeout.aborted ? `no answer within ${(allowedMs / 1000).toFixed(allowedMs < 10_000 ? 1 : 0)} s` : (error as Error).message;
      if (attempt >= attempts) throw new HubError(0, `cannot reach the hub at ${hub} (${failure})`);
    }
    await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** (attempt - 1))));
  }
}

/** The answer as the route declares it, or a HubError that says which side to update. */
function readAnswer<R extends AnyRoute>(hub: string, route: R, path: string, response: Response, payload: unknown): z.output<R["answer"]> {
  const spoken = response.headers.get(PROTOCOL_HEADER);
  if (spoken !== null && spoken !== String(NODE_PROTOCOL_VERSION)) {
    throw new HubError(
      response.status,
      `the hub at ${hub} speaks node protocol ${spoken.slice(0, 20)}, this node speaks ${NODE_PROTOCOL_VERSION}: install the node agent (pathx) of the hub's release`,
    );
  }
  const parsed = route.answer.safeParse(payload);
  // A generic route's schema is typed loosely; its output is the route's answer.
  if (parsed.success) return parsed.data as z.output<R["answer"]>;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "answer"}: ${i.message}`)
    .join("; ");
  throw new HubError(
    response.status,
    `the hub at ${hub} answered ${route.method} ${path.split("?")[0]} in a form this node does not understand (${issues}); ` +
      `this node speaks node protocol ${NODE_PROTOCOL_VERSION}, the hub ${spoken ?? "did not say which"}: install the node agent (pathx) of the hub's release`,
  );
}

export { version as agentVersion };
