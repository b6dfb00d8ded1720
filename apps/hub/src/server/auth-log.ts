/**
 * Auth.js's error log, one line per event: a wrong password is an everyday event, not a crash
 * (the default logger prints a stack trace for it). Unexpected errors keep their cause's message.
 */
export function logAuthError(error: Error, write: (line: string) => void = (line) => console.error(line)) {
  // Auth.js errors carry their kind in `type` (CredentialsSignin, CallbackRouteError, …).
  const type = (error as Error & { type?: string }).type ?? error.name;
  if (type === "CredentialsSignin") return write("[auth] sign-in refused: wrong email or password");
  const cause =
    error.cause && typeof error.cause === "object" && "err" in error.cause && error.cause.err instanceof Error ? error.cause.err.message : undefined;
  write(`[auth] ${type}: ${error.message.split("\n")[0]}${cause ? ` (${cause.split("\n")[0]})` : ""}`);
}
