import { headers } from "next/headers";
import { requestOriginOf, runWithRequestOrigin } from "@pathx/api";

/**
 * Runs a route's work with the caller's address known to the audit (tRPC calls get it from
 * their context; plain routes wrap themselves in this).
 */
export async function withRequestOrigin<T>(fn: () => Promise<T>): Promise<T> {
  return runWithRequestOrigin(requestOriginOf(new Headers(await headers())), fn);
}
