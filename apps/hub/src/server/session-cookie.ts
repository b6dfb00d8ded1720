/** The Auth.js session cookie (name=value, chunked or __Secure-) of a request, if it has one. */
export function sessionCookieOf(headers: Headers): string | undefined {
  const cookie = headers.get("cookie") ?? "";
  return /(?:^|;\s*)((?:__Secure-)?authjs\.session-token(?:\.\d+)?=[^;]+)/.exec(cookie)?.[1];
}
