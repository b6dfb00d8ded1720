import { hubEnv } from "../env";

/**
 * A hub URL as the browser knows the hub: from AUTH_URL, never the request's own URL (behind
 * `next start -H 0.0.0.0` that names the bind address, e.g. http://0.0.0.0:3000).
 */
export function publicUrl(path: string, request: Request): URL {
  return new URL(path, hubEnv().AUTH_URL ?? new URL(request.url).origin);
}
