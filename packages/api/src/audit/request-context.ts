import { AsyncLocalStorage } from "node:async_hooks";
import { isIP } from "node:net";
import { readApiEnv } from "../env";

/**
 * Where a request came from, for the audit: set once per request by the transport (the tRPC
 * middleware, a file route) so every audit entry written while serving it carries the address
 * without each domain function passing it along.
 */
export interface RequestOrigin {
  ip: string | null;
}

const origin = new AsyncLocalStorage<RequestOrigin>();

let trustedProxyHops: number | undefined;

/** The request's origin under this process's TRUST_PROXY_HOPS. */
export function requestOriginOf(headers: Headers): RequestOrigin {
  trustedProxyHops ??= readApiEnv().TRUST_PROXY_HOPS;
  return { ip: clientAddress(headers, trustedProxyHops) };
}

export function runWithRequestOrigin<T>(value: RequestOrigin, fn: () => T): T {
  return origin.run(value, fn);
}

export function currentRequestOrigin(): RequestOrigin | undefined {
  return origin.getStore();
}

/** Header the hub's web process sets from the TCP peer on every request (apps/hub/scripts/peer-address.cjs), replacing whatever a client sent. */
export const PEER_HEADER = "x-pathx-peer";

const clean = (value: string | undefined | null): string | null => {
  const v = value?.trim().replace(/^::ffff:/, "") ?? "";
  return isIP(v) ? v : null;
};

/**
 * The client's address as the hub can trust it. With no trusted proxy (hops 0) it is the TCP
 * peer the web process saw; X-Forwarded-For and X-Real-IP are ignored, since any client can
 * send them. Behind N trusted proxies that each append the address they saw, it is the entry N
 * from the right of X-Forwarded-For: the address the outermost trusted proxy was reached from.
 * Entries to its left were written by the client and prove nothing.
 */
export function clientAddress(headers: Headers, trustedProxyHops: number): string | null {
  if (trustedProxyHops === 0) return clean(headers.get(PEER_HEADER));
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return clean(hops[hops.length - trustedProxyHops]);
}
